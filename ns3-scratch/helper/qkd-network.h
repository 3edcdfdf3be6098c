/*
 * qkdnet ns-3 module "qkd".
 *
 * QkdNetwork builds a QKD network inside ns-3 and runs it one step at a time:
 *  - trusted nodes (key manager + buffers) and untrusted MDI relay nodes, each with a UDP agent;
 *  - per QKD link a classical point-to-point channel beside the fibre (rate, delay from length;
 *    for relay links two arms through the relay), IPv4 and global routing;
 *  - per link frame sampling (QkdLink) and, optionally, post-processing as real traffic
 *    (QkdPostProcessor); key demands relayed hop by hop or as shares over several routes
 *    (QkdKeyManager, QkdKeyDemand); Byzantine behaviour per node; a control channel that carries
 *    control-plane (consensus) messages between key managers as packets.
 *
 * Why a single object with flat arrays: Python crosses into C++ once per step. Step() takes every
 * link's operating point in one array, advances the simulator, and writes every counter (links,
 * demands, nodes) into one output array. The layouts are named by *Fields() so the Python side
 * never hard-codes an index. Configuration calls (routes, Byzantine settings) happen only when
 * something changes, not per step.
 */
#ifndef QKD_NETWORK_H
#define QKD_NETWORK_H

#include "ns3/ipv4-address.h"
#include "ns3/net-device-container.h"
#include "ns3/node-container.h"
#include "ns3/qkd-byzantine.h"
#include "ns3/qkd-key-buffer.h"
#include "ns3/qkd-key-demand.h"
#include "ns3/qkd-key-manager.h"
#include "ns3/qkd-link.h"
#include "ns3/qkd-node-agent.h"
#include "ns3/qkd-post-processor.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ns3
{

/** Classical channel parameters of one QKD link (or of one MDI arm). */
struct QkdClassicalChannelConfig
{
    std::string dataRate{"1Gbps"};
    double propagationDelayPerKmS{4.9e-6}; //!< light in fibre, group index ~1.47
    uint32_t queuePackets{1000};
    uint32_t mtuBytes{65535}; //!< jumbo frames: one datagram is one packet (see SetClassicalChannel)
    bool nixVectorRouting{false}; //!< routes on demand instead of global routing (see SetRouting)
};

/**
 * @ingroup qkd
 * A QKD network in ns-3, stepped from Python.
 */
class QkdNetwork
{
  public:
    QkdNetwork();
    ~QkdNetwork();

    QkdNetwork(const QkdNetwork&) = delete;
    QkdNetwork& operator=(const QkdNetwork&) = delete;

    // ---- building (before Build) --------------------------------------------------------
    /** Add a trusted node (key manager and buffers); returns its index. */
    uint32_t AddTrustedNode();
    /** Add an untrusted relay node (MDI-QKD Bell-state measurement; holds no key). */
    uint32_t AddRelayNode();

    /**
     * Add a QKD link between trusted nodes a and b over `lengthKm` of fibre. With relay >= 0 the
     * link runs through that relay node (arms of lengthKm/2 unless SetArmLengths is used) and can
     * run MDI-QKD. Returns the link index.
     */
    uint32_t AddLink(uint32_t a, uint32_t b, double lengthKm, int32_t relay = -1);
    /** For a relay link: fibre lengths from a to the relay and from the relay to b. */
    void SetArmLengths(uint32_t link, double armAKm, double armBKm);

    /** Key buffer parameters for every link end created from now on. */
    void SetBufferConfig(uint64_t capacityBits,
                         uint64_t minimumBits,
                         uint64_t thresholdBits,
                         uint64_t initialBits);
    /** Frame/block parameters for every link created from now on. */
    void SetLinkConfig(uint64_t framePulses, uint64_t blockSizeBits, double abortQber);
    /**
     * Classical channel for every link created from now on. The MTU defaults to 65535 bytes:
     * the channel is modelled by its rate and delay, and sending a 60 kB datagram as one packet
     * instead of 40 keeps the event count (and wall time) of post-processing traffic low.
     */
    void SetClassicalChannel(const std::string& dataRate, uint32_t queuePackets);
    void SetClassicalMtu(uint32_t mtuBytes);
    /**
     * IP routing of the classical network: "global" (ns-3's global routing, every table filled at
     * Build) or "nix-vector" (fewest-hop routes found when first used). Global routing's
     * shortest-path pass grows about as n^3 on sparse graphs (104 s at 1000 nodes); Nix-vector
     * builds in a fraction of that, at the price of route computation during the run.
     */
    void SetRouting(const std::string& kind);

    /** Run post-processing as packets (true) or distil blocks ideally at once (false). */
    void SetPostProcessing(bool enabled,
                           double errorCorrectionEfficiency,
                           uint32_t errorCorrectionRounds,
                           uint32_t authTagBits,
                           double timeoutS);

    /** Add a key demand from trusted node src to dst at `rateBps`; returns its index. */
    uint32_t AddDemand(uint32_t src, uint32_t dst, double rateBps);
    /** Interval between a demand's requests (every demand; before Build). */
    void SetDemandInterval(double intervalS);

    /** Byzantine behaviour of node `index` (before or after Build). */
    void SetByzantine(uint32_t index,
                      double onsetS,
                      double tamperProbability,
                      double dropProbability,
                      double delayS,
                      double reportQberOffset,
                      double reportBufferScale,
                      double falseAnnouncementProbability);

    /** Create everything with RNG run number `seed` and start at t = 0. Call once. */
    void Build(uint64_t seed);

    // ---- changing a running network -----------------------------------------------------
    /**
     * Routes of demand `index`: `flat` holds node lists separated by -1 (e.g. 0 1 4 -1 0 2 4),
     * each from the demand's source to its destination over existing links; threshold t of the
     * (t, n) sharing over the n routes; authenticate = tag shares (false: "no ABFT" baseline).
     */
    void SetDemandRoutes(uint32_t index,
                         const int32_t* flat,
                         uint64_t n,
                         uint32_t threshold,
                         bool authenticate);
    void SetDemandRate(uint32_t index, double rateBps);
    /** Switch a relay link between BB84-decoy (0) and MDI-QKD (1). */
    void SetLinkProtocol(uint32_t link, uint32_t protocol);

    // ---- stepping -----------------------------------------------------------------------
    static std::vector<std::string> LinkInputFields();
    static std::vector<std::string> LinkOutputFields();
    static std::vector<std::string> DemandOutputFields();
    static std::vector<std::string> NodeOutputFields();

    /**
     * Apply inputs (nullptr/0 keeps the previous ones), advance `dtS` seconds, write outputs:
     * [now_s, links x LinkOutputFields, demands x DemandOutputFields, nodes x NodeOutputFields].
     */
    void Step(double dtS,
              const double* linkInputs,
              uint64_t nInputs,
              double* outputs,
              uint64_t nOutputs);
    void SetLinkInputs(const double* linkInputs, uint64_t nInputs);
    void CollectOutputs(double* outputs, uint64_t nOutputs) const;

    // ---- control channel (consensus messages as packets) ----------------------------------
    // A control-plane protocol written in Python (the ABFT coordinator) runs on top of these:
    // its messages are packets between the nodes, its timers are ns-3 events, and with
    // SetStopOnControlEvents(true) the simulator stops right after each delivery or timer, so
    // Python reacts at the exact simulated moment (replies leave at the right time).
    /** Send a control message of `bytes` from node src to node dst, identified by `tag`. */
    void SendControl(uint32_t src, uint32_t dst, uint32_t bytes, uint64_t tag);
    /** A timer for node `node` firing after `delayS`; returns its handle. */
    uint64_t ScheduleControlTimer(uint32_t node, double delayS);
    /** Cancel a control timer (no-op if it fired already). */
    void CancelControlTimer(uint64_t handle);
    /** Stop the simulator right after every control delivery or timer (see above). */
    void SetStopOnControlEvents(bool stop);
    /**
     * Run until simulated time `tS` or, with stop-on-control-events, the next control event;
     * returns the time reached. Unlike Simulator::Stop(delay), the stop event is cancelled when
     * the run ends early, so no stale stop can cut a later run short.
     */
    double RunUntil(double tS);
    /**
     * Run until simulated time `tNs` (integer nanoseconds, ns-3's resolution) or, with
     * stop-on-control-events, the next control event; returns the time reached in ns. Deadlines
     * given in ns cannot fall between two ticks, so a caller looping "until now >= deadline"
     * always gets there (a float deadline such as 0.29999900000000007 s could not be reached).
     */
    int64_t RunUntilNs(int64_t tNs);
    /**
     * Move control events out in time order: up to `capacity` quadruples
     * (kind 0 = message / 1 = timer, tag or handle, node, time_s) into `out`; returns how many
     * were written (the rest stay queued).
     */
    uint64_t DrainControl(double* out, uint64_t capacity);
    uint64_t GetPendingControlEvents() const;

    // ---- inspection ---------------------------------------------------------------------
    uint64_t GetOutputSize() const;
    uint64_t GetInputSize() const;
    uint32_t GetNNodes() const;
    uint32_t GetNLinks() const;
    uint32_t GetNDemands() const;
    double GetNowSeconds() const;
    int64_t GetNowNs() const;
    bool IsTrusted(uint32_t index) const;
    Ptr<Node> GetNode(uint32_t index) const;
    Ptr<QkdLink> GetLink(uint32_t index) const;
    Ptr<QkdKeyDemand> GetDemand(uint32_t index) const;
    Ptr<QkdKeyManager> GetKeyManager(uint32_t index) const;
    Ipv4Address GetLinkAddress(uint32_t link, uint32_t node) const;

    /** Tear the simulation down (Simulator::Destroy clears ns-3's global node list). */
    void Destroy();

  private:
    struct LinkSpec
    {
        uint32_t a;
        uint32_t b;
        int32_t relay;
        double lengthKm;
        double armAKm;
        double armBKm;
        uint64_t framePulses;
        uint64_t blockSizeBits;
        double abortQber;
        uint64_t bufferCapacityBits;
        uint64_t bufferMinimumBits;
        uint64_t bufferThresholdBits;
        uint64_t bufferInitialBits;
        QkdClassicalChannelConfig classical;
    };

    struct DemandSpec
    {
        uint32_t src;
        uint32_t dst;
        double rateBps;
    };

    void RequireBuilt(const char* what) const;
    void RequireNotBuilt(const char* what) const;
    void RequireNode(uint32_t index, const char* what) const;
    NetDeviceContainer Connect(uint32_t from,
                               uint32_t to,
                               double lengthKm,
                               const QkdClassicalChannelConfig& cfg);
    void BuildLinks();
    void BuildDemands();
    void ApplyByzantine(uint32_t index);
    void OnControl(Ptr<QkdNodeAgent> agent, const QkdMessage& message);
    void UpdateReports();
    std::vector<std::vector<uint32_t>> ParseRoutes(uint32_t demand,
                                                   const int32_t* flat,
                                                   uint64_t n) const;
    Ipv4Address PrimaryAddress(uint32_t node) const;

    std::vector<bool> m_trusted;
    std::vector<LinkSpec> m_linkSpecs;
    std::vector<DemandSpec> m_demandSpecs;
    std::vector<QkdByzantineBehaviour> m_byzantine;
    QkdClassicalChannelConfig m_classical;
    QkdPostProcessingConfig m_ppConfig;
    bool m_ppEnabled;
    double m_demandIntervalS;
    uint64_t m_framePulses;
    uint64_t m_blockSizeBits;
    double m_abortQber;
    uint64_t m_bufferCapacityBits;
    uint64_t m_bufferMinimumBits;
    uint64_t m_bufferThresholdBits;
    uint64_t m_bufferInitialBits;

    bool m_built;
    NodeContainer m_nodes;
    std::vector<Ptr<QkdNodeAgent>> m_agents;
    std::vector<Ptr<QkdKeyManager>> m_keyManagers; //!< nullptr for relay nodes
    std::vector<Ptr<QkdLink>> m_links;
    std::vector<Ptr<QkdPostProcessor>> m_postProcessors; //!< nullptr when ideal
    std::vector<Ptr<QkdKeyDemand>> m_demands;
    std::vector<std::vector<Ipv4Address>> m_linkAddresses; //!< per link: [addr of a, addr of b]
    std::vector<EventId> m_byzantineEvents;

    /** Per link, counters at the previous step and the reports computed from the last step. */
    std::vector<uint64_t> m_prevSifted;
    std::vector<uint64_t> m_prevErrors;
    std::vector<double> m_stepQber;
    std::vector<double> m_reportedQber; //!< 2 per link (end a, end b)

    void RecordControlEvent(double kind, uint64_t id, uint32_t node);
    void FireControlTimer(uint64_t handle, uint32_t node);

    std::vector<double> m_controlEvents; //!< (kind, id, node, time) quadruples not yet drained
    std::vector<uint64_t> m_controlReceived; //!< per node
    std::map<uint64_t, EventId> m_controlTimers;
    uint64_t m_nextTimerHandle;
    bool m_stopOnControl;
};

} // namespace ns3

#endif // QKD_NETWORK_H
