/*
 * qkdnet ns-3 module "qkd".
 *
 * An application's demand for secret key between two trusted nodes, at a given rate.
 *
 * Every interval the demand asks for rate x interval bits. Between neighbours the key is taken
 * straight from the link's buffers. Otherwise a fresh key is generated at the source and relayed
 * over the routes Python chose: with one route, hop by hop through trusted nodes; with n routes,
 * as n shares of a (t, n) sharing, one per (ideally node-disjoint) route. With authentication on,
 * each share carries a tag under key the endpoints already share, the receiver drops shares whose
 * tag fails and rebuilds from t good ones; with it off (the "no ABFT" baseline) whatever arrives
 * is accepted. A share counts as arrived only once its tag verifies: a forged copy that races
 * ahead of the genuine share is rejected and the genuine one is still taken.
 *
 * Tag key is spent, not just counted. The end-to-end tags need key that only the two endpoints
 * share (hop keys would not do: a relay knows the keys of its own hops), so each relayed demand
 * holds an end-to-end authentication key store: pre-shared bits at the start (as much as a
 * link end's pre-shared key), QkdMacKeyBits() taken per share tag that leaves the source, and refilled
 * by key recycling - every relayed key carries extra bits (at least what its tags consume, up to
 * what tops the store back up to the pre-shared level, at most the key's own size) that go to the
 * store when the key is rebuilt correctly; the application gets exactly the bits it asked for.
 * A request the store cannot authenticate fails and is counted (auth_exhausted). Because the simulator knows the true key, it counts what the application could
 * not: keys accepted although wrong.
 *
 * A request is served when the right key is rebuilt before the next request is due.
 */
#ifndef QKD_KEY_DEMAND_H
#define QKD_KEY_DEMAND_H

#include "qkd-key-manager.h"
#include "qkd-secret-sharing.h"

#include "ns3/event-id.h"
#include "ns3/nstime.h"
#include "ns3/object.h"

#include <map>
#include <vector>

namespace ns3
{

/** Most routes (shares) per demand whose outcome is reported separately. */
constexpr uint32_t QKD_MAX_ROUTES = 4;

/** Counters of one demand. */
struct QkdKeyDemandCounters
{
    uint64_t requests{0};
    uint64_t served{0};    //!< the right key arrived in time
    uint64_t accepted{0};  //!< the receiver accepted a key (right or wrong)
    uint64_t corrupted{0}; //!< accepted but wrong (possible only without authentication)
    uint64_t failed{0};    //!< no key in time
    uint64_t requestedBits{0};
    uint64_t deliveredBits{0}; //!< bits of right keys
    uint64_t corruptedBits{0};
    uint64_t sharesSent{0};
    uint64_t sharesReceived{0};
    uint64_t sharesRejected{0}; //!< tag failed: tampering detected
    uint64_t sharesMissing{0};  //!< never arrived in time (dropped, delayed, no hop key)
    uint64_t hopExhausted{0};
    uint64_t authKeyBits{0};    //!< end-to-end authentication key spent on share tags
    uint64_t authExhausted{0};  //!< requests failed: the end-to-end tag key store was short
    uint64_t authRecycledBits{0}; //!< key bits returned to the store by served keys
    uint64_t routeRejected[QKD_MAX_ROUTES]{};
    uint64_t routeMissing[QKD_MAX_ROUTES]{};
};

/** A key the destination holds and has confirmed equal to the source's (see TakeDeliveredKeys). */
struct QkdDeliveredKey
{
    uint64_t keyId{0};
    QkdBytes key;
};

/**
 * @ingroup qkd
 * Key demand between two trusted nodes.
 */
class QkdKeyDemand : public Object
{
  public:
    static TypeId GetTypeId();
    QkdKeyDemand();

    void Setup(uint32_t id,
               Ptr<QkdKeyManager> source,
               Ptr<QkdKeyManager> destination,
               double rateBps,
               Time interval);

    /**
     * Routes (each a node list from source to destination), threshold t (1 <= t <= n routes),
     * and whether shares are authenticated. Takes effect from the next request.
     */
    void SetRoutes(const std::vector<std::vector<uint32_t>>& routes,
                   uint32_t threshold,
                   bool authenticate);
    void SetRateBps(double rateBps);
    /** Add pre-shared end-to-end authentication key (bits) to this demand's tag key store. */
    void AddAuthenticationKey(uint64_t bits);
    /** Bits now in the end-to-end tag key store. */
    uint64_t GetAuthenticationKeyBits() const;
    uint32_t GetThreshold() const;

    void Start(Time at);
    void Stop();

    /** Destination key manager's sink: a share of one of our keys arrived. */
    void OnShareArrived(const QkdMessage& message);
    /** A share was lost at a hop for lack of key. */
    void OnHopExhausted(uint8_t shareIndex);

    /**
     * Keep the bytes of every served key until TakeDeliveredKeys (off by default: only a key
     * delivery API needs them, and a long run would otherwise hold all its key in memory).
     */
    void SetRecordKeys(bool record);
    /**
     * Served keys since the last call, in delivery order. Only keys the destination rebuilt
     * equal to the source's are here: that comparison is the end-to-end key confirmation, so a
     * key rebuilt from tampered shares or not rebuilt at all is never handed to an application.
     */
    std::vector<QkdDeliveredKey> TakeDeliveredKeys();

    const QkdKeyDemandCounters& GetCounters() const;
    uint32_t GetSourceIndex() const;
    uint32_t GetDestinationIndex() const;
    double GetRateBps() const;
    uint32_t GetRouteCount() const;
    int64_t AssignStreams(int64_t stream);

  protected:
    void DoDispose() override;

  private:
    struct Pending
    {
        QkdBytes key;          //!< the application's bytes followed by the recycled tag key
        size_t appBytes{0};    //!< bytes of `key` the application asked for
        uint32_t threshold{1};
        uint32_t shares{1};
        bool authenticate{true};
        std::vector<QkdShare> received; //!< verified shares only
        std::vector<bool> arrived;      //!< a copy whose tag verified has arrived
        std::vector<bool> rejected;     //!< some copy failed its tag
        EventId deadline;
    };

    void Request();
    void Evaluate(uint64_t keyId);
    QkdMacKey ShareMacKey(uint64_t keyId, uint8_t shareIndex) const;
    /** Every share verified, or t verified and every index decided: no need to wait. */
    static bool Decided(const Pending& pending);

    uint32_t m_id;
    Ptr<QkdKeyManager> m_source;
    Ptr<QkdKeyManager> m_destination;
    double m_rateBps;
    Time m_interval;
    std::vector<std::vector<uint32_t>> m_routes;
    uint32_t m_threshold;
    bool m_authenticate;
    EventId m_next;
    uint64_t m_nextKeyId;
    uint64_t m_macSeed;
    uint64_t m_authKeyBits;       //!< end-to-end tag key store (bits both endpoints hold)
    uint64_t m_authKeyTargetBits; //!< the pre-shared level that recycling tops the store up to
    Ptr<UniformRandomVariable> m_uniform;
    std::map<uint64_t, Pending> m_pending;
    QkdKeyDemandCounters m_counters;
    bool m_recordKeys{false};
    std::vector<QkdDeliveredKey> m_delivered;
};

} // namespace ns3

#endif // QKD_KEY_DEMAND_H
