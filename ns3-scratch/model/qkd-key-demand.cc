/*
 * qkdnet ns-3 module "qkd": key demands, direct or relayed (single- or multi-path).
 */
#include "qkd-key-demand.h"

#include "ns3/log.h"
#include "ns3/simulator.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("QkdKeyDemand");
NS_OBJECT_ENSURE_REGISTERED(QkdKeyDemand);

TypeId
QkdKeyDemand::GetTypeId()
{
    static TypeId tid = TypeId("ns3::QkdKeyDemand")
                            .SetParent<Object>()
                            .SetGroupName("Qkd")
                            .AddConstructor<QkdKeyDemand>();
    return tid;
}

QkdKeyDemand::QkdKeyDemand()
    : m_id(0),
      m_rateBps(0.0),
      m_interval(Seconds(0.1)),
      m_threshold(1),
      m_authenticate(true),
      m_nextKeyId(0),
      m_macSeed(0),
      m_authKeyBits(0),
      m_authKeyTargetBits(0),
      m_uniform(CreateObject<UniformRandomVariable>())
{
}

void
QkdKeyDemand::Setup(uint32_t id,
                    Ptr<QkdKeyManager> source,
                    Ptr<QkdKeyManager> destination,
                    double rateBps,
                    Time interval)
{
    m_id = id;
    m_source = source;
    m_destination = destination;
    m_interval = interval;
    SetRateBps(rateBps);
}

void
QkdKeyDemand::SetRateBps(double rateBps)
{
    if (!(rateBps >= 0.0) || !std::isfinite(rateBps))
    {
        throw std::invalid_argument("QkdKeyDemand: rate must be finite and >= 0 bit/s");
    }
    m_rateBps = rateBps;
}

void
QkdKeyDemand::AddAuthenticationKey(uint64_t bits)
{
    m_authKeyBits += bits;
    m_authKeyTargetBits += bits;
}

uint64_t
QkdKeyDemand::GetAuthenticationKeyBits() const
{
    return m_authKeyBits;
}

uint32_t
QkdKeyDemand::GetThreshold() const
{
    return m_threshold;
}

void
QkdKeyDemand::SetRoutes(const std::vector<std::vector<uint32_t>>& routes,
                        uint32_t threshold,
                        bool authenticate)
{
    if (routes.empty() || routes.size() > 255)
    {
        throw std::invalid_argument("QkdKeyDemand: need 1..255 routes");
    }
    if (threshold < 1 || threshold > routes.size())
    {
        throw std::invalid_argument("QkdKeyDemand: threshold must be in 1..number of routes");
    }
    m_routes = routes;
    m_threshold = threshold;
    m_authenticate = authenticate;
}

void
QkdKeyDemand::Start(Time at)
{
    m_next = Simulator::Schedule(at - Simulator::Now(), &QkdKeyDemand::Request, this);
}

void
QkdKeyDemand::Stop()
{
    m_next.Cancel();
}

QkdMacKey
QkdKeyDemand::ShareMacKey(uint64_t keyId, uint8_t shareIndex) const
{
    // The endpoints' pre-shared authentication key, read as a stream: the hash point r is fixed
    // per demand and the one-time mask s is fresh for every (key, share).
    QkdByteSource session(m_macSeed);
    QkdMacKey key;
    key.r = session.Next64();
    QkdByteSource mask(m_macSeed ^ (keyId * 0x9e3779b97f4a7c15ULL) ^ (uint64_t{shareIndex} << 56));
    key.s = mask.Next64();
    return key;
}

void
QkdKeyDemand::Request()
{
    m_next = Simulator::Schedule(m_interval, &QkdKeyDemand::Request, this);
    const auto bytes = static_cast<size_t>(std::ceil(m_rateBps * m_interval.GetSeconds() / 8.0));
    if (bytes == 0 || m_routes.empty())
    {
        return;
    }
    const uint64_t bits = 8 * static_cast<uint64_t>(bytes);
    const uint64_t keyId = m_nextKeyId++;
    m_counters.requests++;
    m_counters.requestedBits += bits;

    const bool direct = m_routes.size() == 1 && m_routes[0].size() == 2;
    if (direct)
    {
        // Neighbours use link key directly: both ends take the same bits.
        Ptr<QkdLink> link = m_source->GetLinkTo(m_routes[0][1]);
        Ptr<QkdKeyBuffer> a = link->GetBufferA();
        Ptr<QkdKeyBuffer> b = link->GetBufferB();
        if (a->GetAvailableBits() >= bits && b->GetAvailableBits() >= bits)
        {
            a->ConsumeKey(bits);
            b->ConsumeKey(bits);
            if (m_recordKeys)
            {
                m_delivered.push_back(QkdDeliveredKey{keyId, link->TakeKeyBytes(bytes)});
            }
            m_counters.served++;
            m_counters.accepted++;
            m_counters.deliveredBits += bits;
        }
        else
        {
            (a->GetAvailableBits() < bits ? a : b)->ConsumeKey(bits); // counts the exhaustion
            m_counters.failed++;
        }
        return;
    }

    const auto shareCount = static_cast<uint32_t>(m_routes.size());
    const uint64_t tagBits = m_authenticate ? uint64_t{shareCount} * QkdMacKeyBits() : 0;
    if (tagBits > m_authKeyBits)
    {
        m_counters.authExhausted++;
        m_counters.failed++;
        return;
    }
    // The relayed key carries the tag key this request spends plus what failed requests burnt
    // (back up to the pre-shared level), at most doubling the key, so one served key heals the
    // store. Without authentication nothing is recycled.
    uint64_t recycleBits = 0;
    if (tagBits > 0)
    {
        const uint64_t deficit = m_authKeyTargetBits > m_authKeyBits - tagBits
                                     ? m_authKeyTargetBits - (m_authKeyBits - tagBits)
                                     : 0;
        recycleBits = std::max(tagBits, std::min(deficit, bits));
    }
    QkdByteSource randomness(static_cast<uint64_t>(m_uniform->GetInteger(0, 0xFFFFFFFFu)) << 32 |
                             static_cast<uint64_t>(m_uniform->GetInteger(0, 0xFFFFFFFFu)));
    Pending pending;
    pending.appBytes = bytes;
    pending.key = randomness.Bytes(bytes + static_cast<size_t>((recycleBits + 7) / 8));
    pending.shares = shareCount;
    pending.threshold = m_threshold;
    pending.authenticate = m_authenticate;
    pending.arrived.assign(pending.shares, false);
    pending.rejected.assign(pending.shares, false);
    const std::vector<QkdShare> shares =
        QkdSplitSecret(pending.key, pending.threshold, pending.shares, randomness);
    pending.deadline = Simulator::Schedule(m_interval, &QkdKeyDemand::Evaluate, this, keyId);
    m_pending.emplace(keyId, std::move(pending));

    for (uint32_t i = 0; i < shares.size(); ++i)
    {
        QkdHeader header;
        header.kind = QkdHeader::RELAY_SHARE;
        header.channel = m_id;
        header.id = keyId;
        header.source = m_routes[i].front();
        header.destination = m_routes[i].back();
        header.shareIndex = shares[i].index;
        header.threshold = static_cast<uint8_t>(m_threshold);
        header.shares = static_cast<uint8_t>(shares.size());
        header.route = m_routes[i];
        if (m_authenticate)
        {
            header.tag = QkdMacTag(ShareMacKey(keyId, shares[i].index), keyId, shares[i].data);
        }
        m_counters.sharesSent++;
        // A share that cannot leave the source (no first-hop key) never disclosed its tag, so
        // its one-time mask is not spent; every other tag consumes key from the store.
        if (m_source->SendShare(header, shares[i].data) && m_authenticate)
        {
            m_authKeyBits -= QkdMacKeyBits();
            m_counters.authKeyBits += QkdMacKeyBits();
        }
    }
}

void
QkdKeyDemand::OnShareArrived(const QkdMessage& message)
{
    auto it = m_pending.find(message.header.id);
    if (it == m_pending.end())
    {
        return; // too late: the request already timed out
    }
    Pending& pending = it->second;
    const uint8_t index = message.header.shareIndex;
    if (index == 0 || index > pending.shares || pending.arrived[index - 1])
    {
        return; // malformed, or a copy of a share that already verified
    }
    m_counters.sharesReceived++;
    // Verify before marking arrived: an unverified copy must never shadow the genuine share.
    const bool good = !pending.authenticate ||
                      QkdMacTag(ShareMacKey(message.header.id, index),
                                message.header.id,
                                message.payload) == message.header.tag;
    if (!good)
    {
        pending.rejected[index - 1] = true;
        m_counters.sharesRejected++;
        if (index - 1 < QKD_MAX_ROUTES)
        {
            m_counters.routeRejected[index - 1]++;
        }
    }
    else
    {
        pending.arrived[index - 1] = true;
        pending.received.push_back(QkdShare{index, message.payload});
    }
    if (Decided(pending))
    {
        Evaluate(message.header.id);
    }
}

bool
QkdKeyDemand::Decided(const Pending& pending)
{
    bool allVerified = true;
    bool allSeen = true;
    for (uint32_t i = 0; i < pending.shares; ++i)
    {
        allVerified = allVerified && pending.arrived[i];
        allSeen = allSeen && (pending.arrived[i] || pending.rejected[i]);
    }
    // With fewer than t verified shares a genuine copy may still come: wait for the deadline.
    return allVerified || (allSeen && pending.received.size() >= pending.threshold);
}

void
QkdKeyDemand::OnHopExhausted(uint8_t /*shareIndex*/)
{
    m_counters.hopExhausted++;
}

void
QkdKeyDemand::Evaluate(uint64_t keyId)
{
    auto it = m_pending.find(keyId);
    if (it == m_pending.end())
    {
        return;
    }
    Pending pending = std::move(it->second);
    m_pending.erase(it);
    Simulator::Remove(pending.deadline);
    for (uint32_t i = 0; i < pending.shares; ++i)
    {
        if (!pending.arrived[i] && !pending.rejected[i])
        {
            m_counters.sharesMissing++;
            if (i < QKD_MAX_ROUTES)
            {
                m_counters.routeMissing[i]++;
            }
        }
    }
    QkdBytes rebuilt;
    if (pending.received.size() < pending.threshold ||
        !QkdCombineShares(pending.received, pending.threshold, pending.shares, rebuilt))
    {
        m_counters.failed++;
        return;
    }
    const uint64_t bits = 8 * static_cast<uint64_t>(pending.appBytes);
    m_counters.accepted++;
    if (rebuilt == pending.key)
    {
        m_counters.served++;
        m_counters.deliveredBits += bits;
        // Key recycling: the extra bytes are fresh end-to-end key for the next tags.
        const uint64_t recycled = 8 * static_cast<uint64_t>(pending.key.size() - pending.appBytes);
        m_authKeyBits += recycled;
        m_counters.authRecycledBits += recycled;
        if (m_recordKeys)
        {
            // the application's key is the first appBytes; the rest went to the tag key store
            rebuilt.resize(pending.appBytes);
            m_delivered.push_back(QkdDeliveredKey{keyId, std::move(rebuilt)});
        }
    }
    else
    {
        m_counters.corrupted++;
        m_counters.corruptedBits += bits;
    }
}

void
QkdKeyDemand::SetRecordKeys(bool record)
{
    m_recordKeys = record;
    if (!record)
    {
        m_delivered.clear();
    }
}

std::vector<QkdDeliveredKey>
QkdKeyDemand::TakeDeliveredKeys()
{
    std::vector<QkdDeliveredKey> out;
    out.swap(m_delivered);
    return out;
}

const QkdKeyDemandCounters&
QkdKeyDemand::GetCounters() const
{
    return m_counters;
}

uint32_t
QkdKeyDemand::GetSourceIndex() const
{
    return m_routes.empty() ? 0 : m_routes[0].front();
}

uint32_t
QkdKeyDemand::GetDestinationIndex() const
{
    return m_routes.empty() ? 0 : m_routes[0].back();
}

double
QkdKeyDemand::GetRateBps() const
{
    return m_rateBps;
}

uint32_t
QkdKeyDemand::GetRouteCount() const
{
    return static_cast<uint32_t>(m_routes.size());
}

int64_t
QkdKeyDemand::AssignStreams(int64_t stream)
{
    m_uniform->SetStream(stream);
    m_macSeed = static_cast<uint64_t>(stream) * 0x2545F4914F6CDD1DULL + 0x1234567;
    return 1;
}

void
QkdKeyDemand::DoDispose()
{
    m_next.Cancel();
    for (auto& [id, pending] : m_pending)
    {
        pending.deadline.Cancel();
    }
    m_pending.clear();
    m_source = nullptr;
    m_destination = nullptr;
    Object::DoDispose();
}

} // namespace ns3
