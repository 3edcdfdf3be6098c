/*
 * qkdnet ns-3 module "qkd": post-processing over the classical network.
 */
#include "qkd-post-processor.h"

#include "ns3/log.h"
#include "ns3/simulator.h"

#include <cmath>

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("QkdPostProcessor");
NS_OBJECT_ENSURE_REGISTERED(QkdPostProcessor);

namespace
{

uint64_t
PositionListBits(const QkdBlock& block, double perDetectionExtraBits)
{
    // A run-length list of D detected slots among P costs about D (log2(P/D) + log2(e)) bits.
    const double d = static_cast<double>(block.detections);
    if (d <= 0.0)
    {
        return 0;
    }
    const double p = std::max(static_cast<double>(block.pulses), d);
    return static_cast<uint64_t>(std::ceil(d * (std::log2(p / d) + M_LOG2E + perDetectionExtraBits)));
}

} // namespace

TypeId
QkdPostProcessor::GetTypeId()
{
    static TypeId tid = TypeId("ns3::QkdPostProcessor")
                            .SetParent<Object>()
                            .SetGroupName("Qkd")
                            .AddConstructor<QkdPostProcessor>();
    return tid;
}

QkdPostProcessor::QkdPostProcessor() = default;

double
QkdPostProcessor::BinaryEntropy(double p)
{
    if (p <= 0.0 || p >= 1.0)
    {
        return 0.0;
    }
    return -p * std::log2(p) - (1.0 - p) * std::log2(1.0 - p);
}

void
QkdPostProcessor::Setup(Ptr<QkdLink> link,
                        Ptr<QkdNodeAgent> alice,
                        Ptr<QkdNodeAgent> bob,
                        Ptr<QkdNodeAgent> relay,
                        Ipv4Address aliceAddress,
                        Ipv4Address bobAddress,
                        const QkdPostProcessingConfig& config)
{
    m_link = link;
    m_alice = alice;
    m_bob = bob;
    m_relay = relay;
    m_aliceAddress = aliceAddress;
    m_bobAddress = bobAddress;
    m_config = config;
    link->SetBlockHandler(MakeCallback(&QkdPostProcessor::OnBlockClosed, this));
}

const QkdPostProcessingCounters&
QkdPostProcessor::GetCounters() const
{
    return m_counters;
}

void
QkdPostProcessor::OnBlockClosed(Ptr<QkdLink> link, QkdBlock block)
{
    BlockState& state = m_blocks[block.blockId];
    state.block = block;
    m_counters.inFlight = m_blocks.size();
    state.timeout = Simulator::Schedule(Seconds(m_config.timeoutS),
                                        &QkdPostProcessor::Timeout,
                                        this,
                                        block.blockId);
    if (link->GetProtocol() == QkdLink::MDI && m_relay)
    {
        // The relay tells both ends which pulse pairs produced a Bell-state result (and which).
        const uint64_t bits = PositionListBits(block, 2.0);
        if (!Send(state, m_relay, m_aliceAddress, QkdHeader::PP_ANNOUNCE, bits) ||
            !Send(state, m_relay, m_bobAddress, QkdHeader::PP_ANNOUNCE, bits))
        {
            return;
        }
        return;
    }
    StartSifting(state);
}

bool
QkdPostProcessor::Send(BlockState& state,
                       Ptr<QkdNodeAgent> from,
                       Ipv4Address to,
                       QkdHeader::Kind kind,
                       uint64_t payloadBits,
                       uint32_t round)
{
    // Every classical message is authenticated with fresh key shared by the link's ends
    // (Wegman-Carter): both ends spend the same tag bits. The relay's announcements are
    // authenticated too in practice, with its own keys; we charge the link ends, who verify them.
    Ptr<QkdKeyBuffer> a = m_link->GetBufferA();
    Ptr<QkdKeyBuffer> b = m_link->GetBufferB();
    const uint32_t tag = m_config.authTagBits;
    if (a->GetLevelBits() < tag || b->GetLevelBits() < tag)
    {
        m_counters.authFailures++;
        NS_LOG_LOGIC("link " << m_link->GetLinkId() << ": no key to authenticate");
        Finish(state.block.blockId, false);
        return false;
    }
    a->ConsumeAuthenticationKey(tag);
    b->ConsumeAuthenticationKey(tag);
    m_counters.authBits += 2 * uint64_t{tag};

    QkdHeader header;
    header.kind = kind;
    header.channel = m_link->GetLinkId();
    header.id = state.block.blockId;
    header.round = round;
    header.source = from->GetNodeIndex();
    const auto bytes = static_cast<uint32_t>((payloadBits + tag + 7) / 8);
    m_counters.messages++;
    m_counters.payloadBytes += bytes;
    from->SendMessage(header, bytes, to);
    return true;
}

void
QkdPostProcessor::StartSifting(BlockState& state)
{
    const bool mdi = m_link->GetProtocol() == QkdLink::MDI && m_relay;
    const uint64_t bits = mdi ? state.block.detections : PositionListBits(state.block, 1.0);
    Send(state, m_bob, m_aliceAddress, QkdHeader::PP_SIFT, bits);
}

void
QkdPostProcessor::OnMessage(Ptr<QkdNodeAgent> at, const QkdMessage& message)
{
    auto it = m_blocks.find(message.header.id);
    if (it == m_blocks.end())
    {
        return; // block already finished, failed or timed out: a late message
    }
    if (at == m_alice)
    {
        HandleAtAlice(it->second, message);
    }
    else if (at == m_bob)
    {
        HandleAtBob(it->second, message);
    }
}

void
QkdPostProcessor::HandleAtAlice(BlockState& state, const QkdMessage& message)
{
    switch (message.header.kind)
    {
    case QkdHeader::PP_ANNOUNCE:
        state.aliceHasAnnounce = true;
        if (state.siftWaitingAtAlice)
        {
            state.siftWaitingAtAlice = false;
            Send(state, m_alice, m_bobAddress, QkdHeader::PP_SIFT_REPLY, state.block.detections);
        }
        break;
    case QkdHeader::PP_SIFT:
        if (m_relay && m_link->GetProtocol() == QkdLink::MDI && !state.aliceHasAnnounce)
        {
            state.siftWaitingAtAlice = true; // bases make sense only with the announcement
            break;
        }
        Send(state, m_alice, m_bobAddress, QkdHeader::PP_SIFT_REPLY, state.block.detections);
        break;
    case QkdHeader::PP_EC:
        Send(state,
             m_alice,
             m_bobAddress,
             QkdHeader::PP_EC_REPLY,
             ErrorCorrectionBitsPerMessage(state.block),
             message.header.round);
        break;
    case QkdHeader::PP_VERIFY:
        Send(state, m_alice, m_bobAddress, QkdHeader::PP_PA, m_config.privacyAmplificationSeedBits);
        break;
    case QkdHeader::PP_ABORT: {
        const uint64_t id = state.block.blockId;
        m_link->AbortBlock(state.block);
        Simulator::Remove(state.timeout);
        m_blocks.erase(id);
        m_counters.inFlight = m_blocks.size();
        break;
    }
    default:
        break;
    }
}

void
QkdPostProcessor::HandleAtBob(BlockState& state, const QkdMessage& message)
{
    switch (message.header.kind)
    {
    case QkdHeader::PP_ANNOUNCE:
        state.bobHasAnnounce = true;
        StartSifting(state);
        break;
    case QkdHeader::PP_SIFT_REPLY:
        // Bob now knows the sifted key and estimates its QBER.
        if (state.block.MeasuredQber() > m_link->GetAbortQber())
        {
            Send(state, m_bob, m_aliceAddress, QkdHeader::PP_ABORT, 0);
            return;
        }
        state.ecRound = 0;
        SendErrorCorrectionRound(state);
        break;
    case QkdHeader::PP_EC_REPLY:
        state.ecRound++;
        if (state.ecRound < m_config.errorCorrectionRounds)
        {
            SendErrorCorrectionRound(state);
        }
        else
        {
            Send(state, m_bob, m_aliceAddress, QkdHeader::PP_VERIFY, m_config.verifyHashBits);
        }
        break;
    case QkdHeader::PP_PA:
        Finish(state.block.blockId, true);
        break;
    default:
        break;
    }
}

void
QkdPostProcessor::SendErrorCorrectionRound(BlockState& state)
{
    Send(state,
         m_bob,
         m_aliceAddress,
         QkdHeader::PP_EC,
         ErrorCorrectionBitsPerMessage(state.block),
         state.ecRound);
}

uint64_t
QkdPostProcessor::ErrorCorrectionBitsPerMessage(const QkdBlock& block) const
{
    const double leak = m_config.errorCorrectionEfficiency * BinaryEntropy(block.MeasuredQber()) *
                        static_cast<double>(block.siftedBits);
    const double rounds = std::max<uint32_t>(1, m_config.errorCorrectionRounds);
    return static_cast<uint64_t>(std::ceil(leak / rounds));
}

void
QkdPostProcessor::Finish(uint64_t blockId, bool success)
{
    auto it = m_blocks.find(blockId);
    if (it == m_blocks.end())
    {
        return;
    }
    const QkdBlock block = it->second.block;
    Simulator::Remove(it->second.timeout);
    m_blocks.erase(it);
    m_counters.inFlight = m_blocks.size();
    if (success)
    {
        const auto secret = static_cast<uint64_t>(
            std::floor(static_cast<double>(block.siftedBits) * block.secretFraction));
        m_link->DeliverBlockKey(block, secret);
    }
    else
    {
        m_link->FailBlock(block);
    }
}

void
QkdPostProcessor::Timeout(uint64_t blockId)
{
    if (m_blocks.count(blockId) != 0)
    {
        m_counters.timeouts++;
        Finish(blockId, false);
    }
}

void
QkdPostProcessor::DoDispose()
{
    for (auto& [id, state] : m_blocks)
    {
        state.timeout.Cancel();
    }
    m_blocks.clear();
    m_link = nullptr;
    m_alice = nullptr;
    m_bob = nullptr;
    m_relay = nullptr;
    Object::DoDispose();
}

} // namespace ns3
