/*
 * qkdnet ns-3 module "qkd".
 *
 * Classical post-processing of a QKD link as real ns-3 traffic.
 *
 * Each closed block of sifted key goes through the message exchange of a BB84 post-processing
 * stack between the link's ends (Alice = end A, Bob = end B), every message an ns-3 packet over
 * the classical network, authenticated with key taken from the link's own buffers:
 *
 *   [MDI only] relay -> A and relay -> B  ANNOUNCE  which pulse pairs gave a Bell-state result
 *   B -> A  SIFT        detected time slots and bases    D (log2(P/D) + log2(e) + 1) bits
 *                       (MDI: bases only, D bits: the relay already announced the slots)
 *   A -> B  SIFT_REPLY  basis matches                     D bits
 *   B: QBER of the block > abort threshold  =>  B -> A ABORT, block discarded (counted)
 *   R rounds of  B -> A EC, A -> B EC_REPLY   together f_EC h(QBER) n bits, split evenly
 *   B -> A  VERIFY      hash of the corrected key         64 bits
 *   A -> B  PA          privacy-amplification seed        256 bits  => key into both buffers
 *
 * (D detections, P pulses, n sifted bits of the block; the sizes follow the usual encodings of
 * a run-length position list and Cascade-style parity exchange.) Key reaches the buffers only
 * when the last message arrives, so classical-network delay and congestion show up as key
 * availability. A block not finished within the timeout (lost datagrams, a stalled link) is
 * failed and counted; a message that cannot be authenticated for lack of key fails its block.
 */
#ifndef QKD_POST_PROCESSOR_H
#define QKD_POST_PROCESSOR_H

#include "qkd-link.h"
#include "qkd-node-agent.h"

#include "ns3/event-id.h"
#include "ns3/ipv4-address.h"
#include "ns3/object.h"

#include <map>

namespace ns3
{

/** Parameters of the post-processing stack (same for every link of a scenario). */
struct QkdPostProcessingConfig
{
    double errorCorrectionEfficiency{1.16}; //!< f_EC >= 1: leak = f_EC h(QBER) n
    uint32_t errorCorrectionRounds{4};      //!< Cascade passes (each a request + a reply)
    uint32_t authTagBits{64};               //!< key bits one authenticated message consumes
    uint32_t verifyHashBits{64};
    uint32_t privacyAmplificationSeedBits{256};
    double timeoutS{10.0}; //!< a block not done this long after closing is failed
};

/** Post-processing counters of one link. */
struct QkdPostProcessingCounters
{
    uint64_t messages{0};
    uint64_t payloadBytes{0};
    uint64_t authBits{0};
    uint64_t authFailures{0};
    uint64_t timeouts{0};
    uint64_t inFlight{0};
};

/**
 * @ingroup qkd
 * Runs the post-processing protocol of one link over the classical network.
 */
class QkdPostProcessor : public Object
{
  public:
    static TypeId GetTypeId();
    QkdPostProcessor();

    /**
     * Attach to `link`: closed blocks are handed here instead of being distilled ideally.
     * `aliceAddress`/`bobAddress` are the ends' addresses on the link's classical channel;
     * `relay` (MDI links) announces to `aliceAddress` and `bobAddress`.
     */
    void Setup(Ptr<QkdLink> link,
               Ptr<QkdNodeAgent> alice,
               Ptr<QkdNodeAgent> bob,
               Ptr<QkdNodeAgent> relay,
               Ipv4Address aliceAddress,
               Ipv4Address bobAddress,
               const QkdPostProcessingConfig& config);

    /** Called by an agent for every post-processing message of this link. */
    void OnMessage(Ptr<QkdNodeAgent> at, const QkdMessage& message);

    const QkdPostProcessingCounters& GetCounters() const;

    /** Binary entropy h(p) in bits. */
    static double BinaryEntropy(double p);

  protected:
    void DoDispose() override;

  private:
    struct BlockState
    {
        QkdBlock block;
        bool aliceHasAnnounce{false};
        bool bobHasAnnounce{false};
        bool siftWaitingAtAlice{false};
        uint32_t ecRound{0};
        EventId timeout;
    };

    void OnBlockClosed(Ptr<QkdLink> link, QkdBlock block);
    /** Authenticate and send; false (block failed) if there is no key to authenticate. */
    bool Send(BlockState& state,
              Ptr<QkdNodeAgent> from,
              Ipv4Address to,
              QkdHeader::Kind kind,
              uint64_t payloadBits,
              uint32_t round = 0);
    void StartSifting(BlockState& state);
    void HandleAtAlice(BlockState& state, const QkdMessage& message);
    void HandleAtBob(BlockState& state, const QkdMessage& message);
    void SendErrorCorrectionRound(BlockState& state);
    uint64_t ErrorCorrectionBitsPerMessage(const QkdBlock& block) const;
    void Finish(uint64_t blockId, bool success);
    void Timeout(uint64_t blockId);

    Ptr<QkdLink> m_link;
    Ptr<QkdNodeAgent> m_alice;
    Ptr<QkdNodeAgent> m_bob;
    Ptr<QkdNodeAgent> m_relay;
    Ipv4Address m_aliceAddress;
    Ipv4Address m_bobAddress;
    QkdPostProcessingConfig m_config;
    std::map<uint64_t, BlockState> m_blocks;
    QkdPostProcessingCounters m_counters;
};

} // namespace ns3

#endif // QKD_POST_PROCESSOR_H
