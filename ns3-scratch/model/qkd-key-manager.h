/*
 * qkdnet ns-3 module "qkd".
 *
 * The key manager of a trusted node: it holds the node's end of every QKD link (its key
 * buffers), forwards relayed key shares hop by hop with one-time-pad encryption on each hop
 * (spending the share's length in key from that hop's buffers at both ends), and hands shares
 * addressed to its node to the sink (the demand that asked for the key).
 *
 * A Byzantine key manager, from its onset on, may drop, delay or tamper with shares it relays;
 * it never sees more than the shares routed through it, which is what multipath sharing buys.
 */
#ifndef QKD_KEY_MANAGER_H
#define QKD_KEY_MANAGER_H

#include "qkd-byzantine.h"
#include "qkd-link.h"
#include "qkd-node-agent.h"

#include "ns3/callback.h"
#include "ns3/ipv4-address.h"
#include "ns3/object.h"
#include "ns3/random-variable-stream.h"

#include <map>

namespace ns3
{

/** Relay counters of one key manager. */
struct QkdKeyManagerCounters
{
    uint64_t sharesOriginated{0};
    uint64_t sharesForwarded{0};
    uint64_t sharesDelivered{0};
    uint64_t sharesDropped{0};  //!< by this node's Byzantine behaviour
    uint64_t sharesTampered{0}; //!< by this node's Byzantine behaviour (incl. forged copies)
    uint64_t sharesDelayed{0};  //!< by this node's Byzantine behaviour
    uint64_t hopExhausted{0};   //!< shares lost: not enough key on the next hop
    uint64_t relayKeyBits{0};   //!< one-time-pad key spent on hops leaving this node
};

/**
 * @ingroup qkd
 * Key manager of one trusted node.
 */
class QkdKeyManager : public Object
{
  public:
    /** Called for a share addressed to this node: (message, arrival). */
    typedef Callback<void, const QkdMessage&> ShareSink;
    /** Called when a share is lost at a hop for lack of key: (demand id, share index). */
    typedef Callback<void, uint32_t, uint8_t> HopFailureSink;

    static TypeId GetTypeId();
    QkdKeyManager();

    void Setup(uint32_t nodeIndex, Ptr<QkdNodeAgent> agent);
    /** Register the link to `neighbor` and the neighbour's address on it. */
    void AddNeighbor(uint32_t neighbor, Ptr<QkdLink> link, Ipv4Address neighborAddress);
    Ptr<QkdLink> GetLinkTo(uint32_t neighbor) const;
    bool IsNeighbor(uint32_t neighbor) const;

    void SetByzantine(const QkdByzantineBehaviour& behaviour);
    const QkdByzantineBehaviour& GetByzantine() const;
    bool IsByzantineNow() const;

    void SetShareSink(ShareSink sink);
    void SetHopFailureSink(HopFailureSink sink);

    /** Originate a share at this node (route[0] must be this node); false: no first-hop key. */
    bool SendShare(QkdHeader header, const QkdBytes& share);
    /** Agent callback: a share arrived for this node (to keep or forward). */
    void OnShare(Ptr<QkdNodeAgent> agent, const QkdMessage& message);

    const QkdKeyManagerCounters& GetCounters() const;
    int64_t AssignStreams(int64_t stream);

  protected:
    void DoDispose() override;

  private:
    /** Byzantine tampering: flip one random bit in every 8 bytes of `share`. */
    void FlipBits(QkdBytes& share);
    /** Spend hop key and send the share to route[hop + 1]; false: not enough hop key. */
    bool ForwardFrom(QkdHeader header, QkdBytes share);

    uint32_t m_index;
    Ptr<QkdNodeAgent> m_agent;
    std::map<uint32_t, std::pair<Ptr<QkdLink>, Ipv4Address>> m_neighbors;
    QkdByzantineBehaviour m_byzantine;
    Ptr<UniformRandomVariable> m_uniform;
    ShareSink m_sink;
    HopFailureSink m_hopFailure;
    QkdKeyManagerCounters m_counters;
};

} // namespace ns3

#endif // QKD_KEY_MANAGER_H
