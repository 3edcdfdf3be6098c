/*
 * qkdnet ns-3 module "qkd": key manager of a trusted node (hop-by-hop share relay).
 */
#include "qkd-key-manager.h"

#include "ns3/log.h"
#include "ns3/simulator.h"

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("QkdKeyManager");
NS_OBJECT_ENSURE_REGISTERED(QkdKeyManager);

TypeId
QkdKeyManager::GetTypeId()
{
    static TypeId tid = TypeId("ns3::QkdKeyManager")
                            .SetParent<Object>()
                            .SetGroupName("Qkd")
                            .AddConstructor<QkdKeyManager>();
    return tid;
}

QkdKeyManager::QkdKeyManager()
    : m_index(0),
      m_uniform(CreateObject<UniformRandomVariable>())
{
}

void
QkdKeyManager::Setup(uint32_t nodeIndex, Ptr<QkdNodeAgent> agent)
{
    m_index = nodeIndex;
    m_agent = agent;
}

void
QkdKeyManager::AddNeighbor(uint32_t neighbor, Ptr<QkdLink> link, Ipv4Address neighborAddress)
{
    m_neighbors.emplace(neighbor, std::make_pair(link, neighborAddress));
}

Ptr<QkdLink>
QkdKeyManager::GetLinkTo(uint32_t neighbor) const
{
    auto it = m_neighbors.find(neighbor);
    return it == m_neighbors.end() ? nullptr : it->second.first;
}

bool
QkdKeyManager::IsNeighbor(uint32_t neighbor) const
{
    return m_neighbors.count(neighbor) != 0;
}

void
QkdKeyManager::SetByzantine(const QkdByzantineBehaviour& behaviour)
{
    m_byzantine = behaviour;
}

const QkdByzantineBehaviour&
QkdKeyManager::GetByzantine() const
{
    return m_byzantine;
}

bool
QkdKeyManager::IsByzantineNow() const
{
    return m_byzantine.ActiveAt(Simulator::Now());
}

void
QkdKeyManager::SetShareSink(ShareSink sink)
{
    m_sink = sink;
}

void
QkdKeyManager::SetHopFailureSink(HopFailureSink sink)
{
    m_hopFailure = sink;
}

bool
QkdKeyManager::SendShare(QkdHeader header, const QkdBytes& share)
{
    NS_ASSERT(!header.route.empty() && header.route[0] == m_index);
    header.round = 0;
    m_counters.sharesOriginated++;
    return ForwardFrom(header, share);
}

void
QkdKeyManager::OnShare(Ptr<QkdNodeAgent> agent, const QkdMessage& message)
{
    QkdHeader header = message.header;
    header.round++; // the share is now at route[round]
    if (header.destination == m_index || header.round + 1 >= header.route.size())
    {
        m_counters.sharesDelivered++;
        if (!m_sink.IsNull())
        {
            QkdMessage arrived = message;
            arrived.header = header;
            m_sink(arrived);
        }
        return;
    }
    QkdBytes share = message.payload;
    if (IsByzantineNow())
    {
        if (m_byzantine.dropProbability > 0.0 &&
            m_uniform->GetValue() < m_byzantine.dropProbability)
        {
            m_counters.sharesDropped++;
            return;
        }
        if (m_byzantine.forgeCopyProbability > 0.0 && !share.empty() &&
            m_uniform->GetValue() < m_byzantine.forgeCopyProbability)
        {
            // A forged copy races ahead of the genuine share: the receiver must not let the
            // first copy of an index decide, only one whose tag verifies.
            QkdBytes forged = share;
            FlipBits(forged);
            m_counters.sharesTampered++;
            ForwardFrom(header, forged);
        }
        if (m_byzantine.tamperProbability > 0.0 && !share.empty() &&
            m_uniform->GetValue() < m_byzantine.tamperProbability)
        {
            FlipBits(share);
            m_counters.sharesTampered++;
        }
        if (m_byzantine.delayS > 0.0)
        {
            m_counters.sharesDelayed++;
            Simulator::Schedule(Seconds(m_byzantine.delayS),
                                &QkdKeyManager::ForwardFrom,
                                this,
                                header,
                                share);
            return;
        }
    }
    ForwardFrom(header, share);
}

void
QkdKeyManager::FlipBits(QkdBytes& share)
{
    // Flip one random bit in every 8 bytes: a relay cannot fix the tag without the key.
    for (size_t i = 0; i < share.size(); i += 8)
    {
        const auto bit = static_cast<uint32_t>(m_uniform->GetInteger(0, 7));
        share[i] ^= static_cast<uint8_t>(1u << bit);
    }
}

bool
QkdKeyManager::ForwardFrom(QkdHeader header, QkdBytes share)
{
    const uint32_t next = header.route[header.round + 1];
    auto it = m_neighbors.find(next);
    NS_ABORT_MSG_IF(it == m_neighbors.end(),
                    "node " << m_index << " has no link to " << next << " (route checked?)");
    Ptr<QkdLink> link = it->second.first;
    // One-time pad on this hop: both ends spend as many key bits as the share has.
    const uint64_t bits = 8 * static_cast<uint64_t>(share.size());
    Ptr<QkdKeyBuffer> mine = link->GetBufferAt(m_agent->GetNode());
    Ptr<QkdKeyBuffer> theirs = link->GetBufferA() == mine ? link->GetBufferB() : link->GetBufferA();
    if (mine->GetAvailableBits() < bits || theirs->GetAvailableBits() < bits)
    {
        // Count the failed request on the buffer that was short (key-exhausted event).
        if (mine->GetAvailableBits() < bits)
        {
            mine->ConsumeKey(bits);
        }
        else
        {
            theirs->ConsumeKey(bits);
        }
        m_counters.hopExhausted++;
        if (!m_hopFailure.IsNull())
        {
            m_hopFailure(header.channel, header.shareIndex);
        }
        return false;
    }
    mine->ConsumeKey(bits);
    theirs->ConsumeKey(bits);
    m_counters.relayKeyBits += bits;
    if (header.round > 0)
    {
        m_counters.sharesForwarded++;
    }
    m_agent->SendBytes(header, share, it->second.second);
    return true;
}

const QkdKeyManagerCounters&
QkdKeyManager::GetCounters() const
{
    return m_counters;
}

int64_t
QkdKeyManager::AssignStreams(int64_t stream)
{
    m_uniform->SetStream(stream);
    return 1;
}

void
QkdKeyManager::DoDispose()
{
    m_agent = nullptr;
    m_neighbors.clear();
    m_sink = ShareSink();
    m_hopFailure = HopFailureSink();
    Object::DoDispose();
}

} // namespace ns3
