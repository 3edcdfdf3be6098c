/*
 * qkdnet ns-3 module "qkd": frame-level QKD link.
 */
#include "qkd-link.h"

#include "ns3/boolean.h"
#include "ns3/double.h"
#include "ns3/enum.h"
#include "ns3/log.h"
#include "ns3/rng-seed-manager.h"
#include "ns3/simulator.h"
#include "ns3/uinteger.h"

#include <cmath>
#include <sstream>
#include <stdexcept>

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("QkdLink");
NS_OBJECT_ENSURE_REGISTERED(QkdLink);

namespace
{

/** Most frames one aggregated event draws ahead (bounds the memory of a link that never closes
 * a block, e.g. at gain 0). */
constexpr size_t MAX_DRAWN_FRAMES = 4096;

Time g_drawHorizon = Time::Max(); //!< see QkdLink::SetDrawHorizon
uint64_t g_frameEvents = 0;       //!< see QkdLink::GetFrameEventCount
uint64_t g_redrawnFrames = 0;     //!< see QkdLink::GetRedrawnFrameCount

void
RequireInRange(const char* name, double value, double low, double high)
{
    if (!(value >= low && value <= high)) // also rejects NaN
    {
        std::ostringstream msg;
        msg << "QkdLink: " << name << " = " << value << " is outside [" << low << ", " << high
            << "]";
        throw std::invalid_argument(msg.str());
    }
}

void
RequireOperatingPoint(double gain, double qber, double siftingRatio, double secretFraction)
{
    RequireInRange("gain", gain, 0.0, 1.0);
    RequireInRange("qber", qber, 0.0, 0.5);
    RequireInRange("sifting ratio", siftingRatio, 0.0, 1.0);
    RequireInRange("secret fraction", secretFraction, 0.0, 1.0);
}

void
RequirePulseRate(double pulseRateHz)
{
    if (!(pulseRateHz >= 1.0 && std::isfinite(pulseRateHz)))
    {
        std::ostringstream msg;
        msg << "QkdLink: pulse rate " << pulseRateHz << " Hz must be a finite value >= 1 Hz";
        throw std::invalid_argument(msg.str());
    }
}

} // namespace

TypeId
QkdLink::GetTypeId()
{
    static TypeId tid =
        TypeId("ns3::QkdLink")
            .SetParent<Object>()
            .SetGroupName("Qkd")
            .AddConstructor<QkdLink>()
            .AddAttribute("FramePulses",
                          "Pulses per simulated frame N (one sampling event per frame).",
                          UintegerValue(1'000'000),
                          MakeUintegerAccessor(&QkdLink::m_framePulses),
                          MakeUintegerChecker<uint64_t>(1))
            .AddAttribute("BlockSizeBits",
                          "Sifted bits per post-processing block.",
                          UintegerValue(100'000),
                          MakeUintegerAccessor(&QkdLink::m_blockSizeBits),
                          MakeUintegerChecker<uint64_t>(1))
            .AddAttribute("AbortQber",
                          "A block whose measured QBER exceeds this is discarded.",
                          DoubleValue(0.11),
                          MakeDoubleAccessor(&QkdLink::m_abortQber),
                          MakeDoubleChecker<double>(0.0, 0.5))
            .AddAttribute("PulseRateHz",
                          "Source repetition rate.",
                          DoubleValue(1e9),
                          MakeDoubleAccessor(&QkdLink::SetPulseRateHz, &QkdLink::GetPulseRateHz),
                          MakeDoubleChecker<double>(1.0))
            .AddAttribute("AggregateFrames",
                          "Draw a link's frames ahead in one event per closed block (exact: "
                          "the same counters as one event per frame, which false selects).",
                          BooleanValue(true),
                          MakeBooleanAccessor(&QkdLink::m_aggregate),
                          MakeBooleanChecker())
            .AddTraceSource("BlockClosed",
                            "A block of sifted key was closed (linkId, blockId, siftedBits).",
                            MakeTraceSourceAccessor(&QkdLink::m_blockClosedTrace),
                            "ns3::QkdLink::BlockTracedCallback")
            .AddTraceSource("KeyDelivered",
                            "Secret key of a block reached the buffers (linkId, blockId, bits).",
                            MakeTraceSourceAccessor(&QkdLink::m_keyDeliveredTrace),
                            "ns3::QkdLink::BlockTracedCallback");
    return tid;
}

QkdLink::QkdLink()
    : m_linkId(0),
      m_protocol(BB84_DECOY),
      m_framePulses(1'000'000),
      m_blockSizeBits(100'000),
      m_abortQber(0.11),
      m_pulseRateHz(1e9),
      m_gain(0.0),
      m_qber(0.0),
      m_siftingRatio(0.5),
      m_secretFraction(0.0),
      m_flipProbability(0.0),
      m_running(false),
      m_aggregate(true),
      m_nextBlockId(0)
{
}

void
QkdLink::Setup(uint32_t linkId,
               Ptr<Node> endA,
               Ptr<Node> endB,
               Ptr<QkdKeyBuffer> bufferA,
               Ptr<QkdKeyBuffer> bufferB,
               Ptr<Node> relay)
{
    NS_ASSERT_MSG(endA && endB && endA != endB, "QkdLink needs two distinct end nodes");
    NS_ASSERT_MSG(bufferA && bufferB, "QkdLink needs a key buffer at each end");
    m_linkId = linkId;
    m_endA = endA;
    m_endB = endB;
    m_bufferA = bufferA;
    m_bufferB = bufferB;
    m_relay = relay;
    m_protocol = relay ? MDI : BB84_DECOY;
}

void
QkdLink::Start(Time start)
{
    m_running = true;
    m_openBlock = QkdBlock{};
    m_openBlock.linkId = m_linkId;
    m_openBlock.blockId = m_nextBlockId++;
    m_openBlock.openedAt = start;
    m_drawn.clear();
    m_drawnApplied = 0;
    m_drawnCloses = false;
    m_nextFrameAt = start;
    m_lastDrawnAt = start;
    m_frameEvent = Simulator::Schedule(start - Simulator::Now(),
                                       m_aggregate ? &QkdLink::OnFrames : &QkdLink::EmitFrame,
                                       this);
}

void
QkdLink::Stop()
{
    DiscardDrawnAhead();
    m_running = false;
    m_frameEvent.Cancel();
}

void
QkdLink::SetOperatingPoint(double gain, double qber, double siftingRatio, double secretFraction)
{
    RequireOperatingPoint(gain, qber, siftingRatio, secretFraction);
    if (gain == m_gain && qber == m_qber && siftingRatio == m_siftingRatio &&
        secretFraction == m_secretFraction)
    {
        return; // nothing changes: frames drawn ahead stay valid
    }
    DiscardDrawnAhead();
    m_gain = gain;
    m_qber = qber;
    m_siftingRatio = siftingRatio;
    m_secretFraction = secretFraction;
}

void
QkdLink::SetPulseRateHz(double pulseRateHz)
{
    RequirePulseRate(pulseRateHz);
    if (pulseRateHz == m_pulseRateHz)
    {
        return;
    }
    DiscardDrawnAhead();
    m_pulseRateHz = pulseRateHz;
}

void
QkdLink::ValidateInputs(double gain,
                        double qber,
                        double siftingRatio,
                        double secretFraction,
                        double pulseRateHz)
{
    RequireOperatingPoint(gain, qber, siftingRatio, secretFraction);
    RequirePulseRate(pulseRateHz);
}

void
QkdLink::SetAnnouncementFlipProbability(double probability)
{
    RequireInRange("announcement flip probability", probability, 0.0, 1.0);
    if (probability == m_flipProbability)
    {
        return;
    }
    DiscardDrawnAhead();
    m_flipProbability = probability;
}

void
QkdLink::SetProtocol(Protocol protocol)
{
    if (protocol == MDI && !m_relay)
    {
        throw std::invalid_argument("QkdLink: MDI-QKD needs a relay node on the link");
    }
    if (protocol == m_protocol)
    {
        return;
    }
    DiscardDrawnAhead();
    m_protocol = protocol;
}

void
QkdLink::SetBlockHandler(BlockHandler handler)
{
    m_blockHandler = handler;
}

QkdLink::FrameDraw
QkdLink::SampleFrame()
{
    FrameDraw f;
    f.detections = m_sampler.Sample(m_framePulses, m_gain);
    f.sifted = m_sampler.Sample(f.detections, m_siftingRatio);
    f.errors = m_sampler.Sample(f.sifted, m_qber);
    if (m_protocol == MDI && m_flipProbability > 0.0 && f.sifted > 0)
    {
        // A lying relay flips announced outcomes: a flipped correct bit becomes an error and a
        // flipped error becomes correct.
        const uint64_t flippedGood = m_sampler.Sample(f.sifted - f.errors, m_flipProbability);
        const uint64_t flippedBad = m_sampler.Sample(f.errors, m_flipProbability);
        f.errors = f.errors - flippedBad + flippedGood;
        f.flipped = flippedGood + flippedBad;
    }
    return f;
}

void
QkdLink::ApplyFrame(const FrameDraw& frame)
{
    const uint64_t n = m_framePulses;
    m_counters.flippedAnnouncements += frame.flipped;
    m_counters.framesSent++;
    m_counters.pulsesSent += n;
    m_counters.detections += frame.detections;
    m_counters.siftedBits += frame.sifted;
    m_counters.errorBits += frame.errors;

    m_openBlock.detections += frame.detections;
    m_openBlock.pulses += n;
    m_openBlock.siftedBits += frame.sifted;
    m_openBlock.errorBits += frame.errors;
    // The secret fraction of a block is the one in force when its last frame arrives.
    m_openBlock.secretFraction = m_secretFraction;
    if (m_openBlock.siftedBits >= m_blockSizeBits)
    {
        CloseBlock();
    }
}

void
QkdLink::EmitFrame()
{
    if (!m_running)
    {
        return;
    }
    g_frameEvents++;
    ApplyFrame(SampleFrame());
    const Time frame = GetFrameDuration();
    m_frameEvent = Simulator::Schedule(frame, &QkdLink::EmitFrame, this);
}

void
QkdLink::OnFrames()
{
    if (!m_running)
    {
        return;
    }
    g_frameEvents++;
    const Time now = Simulator::Now();
    // This event sits at the frame that closes the block, or at the first frame not drawn:
    // every frame drawn so far has happened by now.
    ApplyDrawnUntil(now, true);
    while (m_drawn.empty())
    {
        const bool frameDueNow = m_nextFrameAt == now;
        DrawAhead(now);
        if (!frameDueNow || m_drawn.empty())
        {
            break;
        }
        ApplyDrawnUntil(now, true); // the frame at this very time has happened too
    }
    if (m_drawnCloses)
    {
        ScheduleFramesAt(m_drawn.back().at, m_drawn.back().previousAt);
    }
    else
    {
        ScheduleFramesAt(m_nextFrameAt, m_lastDrawnAt);
    }
}

void
QkdLink::ScheduleFramesAt(Time at, Time previousAt)
{
    const Time now = Simulator::Now();
    if (previousAt <= now)
    {
        m_frameEvent = Simulator::Schedule(at - now, &QkdLink::OnFrames, this);
        return;
    }
    m_relayTarget = at;
    m_frameEvent = Simulator::Schedule(previousAt - now, &QkdLink::RelayFrames, this);
}

void
QkdLink::RelayFrames()
{
    g_frameEvents++;
    m_frameEvent =
        Simulator::Schedule(m_relayTarget - Simulator::Now(), &QkdLink::OnFrames, this);
}

void
QkdLink::DrawAhead(Time now)
{
    const Time horizon = g_drawHorizon > now ? g_drawHorizon : Time::Max();
    uint64_t sifted = m_openBlock.siftedBits;
    for (size_t i = m_drawnApplied; i < m_drawn.size(); ++i)
    {
        sifted += m_drawn[i].draw.sifted;
    }
    while (m_drawn.size() - m_drawnApplied < MAX_DRAWN_FRAMES && m_nextFrameAt < horizon &&
           sifted < m_blockSizeBits)
    {
        const RngStream before = m_sampler.SaveState();
        const FrameDraw frame = SampleFrame();
        m_drawn.push_back(DrawnFrame{m_nextFrameAt, m_lastDrawnAt, frame, before});
        m_lastDrawnAt = m_nextFrameAt;
        m_nextFrameAt += GetFrameDuration();
        sifted += frame.sifted;
    }
    m_drawnCloses = !m_drawn.empty() && sifted >= m_blockSizeBits;
}

void
QkdLink::ApplyDrawnUntil(Time t, bool inclusive)
{
    while (m_drawnApplied < m_drawn.size() &&
           (m_drawn[m_drawnApplied].at < t || (inclusive && m_drawn[m_drawnApplied].at == t)))
    {
        ApplyFrame(m_drawn[m_drawnApplied++].draw);
    }
    if (m_drawnApplied == m_drawn.size())
    {
        m_drawn.clear();
        m_drawnApplied = 0;
        m_drawnCloses = false;
    }
}

void
QkdLink::CatchUp()
{
    if (!m_drawn.empty())
    {
        // Frames strictly before now have happened; a frame at now has not (its event would run
        // after whatever is reading or changing the link now). None of them closes the block:
        // a closing frame has its own event, which has run if its time has passed.
        NS_ASSERT(m_drawnApplied < m_drawn.size());
        const uint64_t closedBefore = m_counters.blocksClosed;
        ApplyDrawnUntil(Simulator::Now(), false);
        NS_ASSERT_MSG(m_counters.blocksClosed == closedBefore,
                      "a drawn-ahead frame closed a block outside its event");
        (void)closedBefore;
    }
}

void
QkdLink::DiscardDrawnAhead()
{
    CatchUp();
    if (m_drawn.empty())
    {
        return;
    }
    // Put the stream back to before the first frame that has not happened and draw from there
    // again, with the new inputs, when its time comes.
    const DrawnFrame& first = m_drawn[m_drawnApplied];
    g_redrawnFrames += m_drawn.size() - m_drawnApplied;
    m_sampler.RestoreState(first.before);
    m_nextFrameAt = first.at;
    m_lastDrawnAt = first.previousAt;
    m_drawn.clear();
    m_drawnApplied = 0;
    m_drawnCloses = false;
    if (m_running)
    {
        Simulator::Remove(m_frameEvent);
        ScheduleFramesAt(m_nextFrameAt, m_lastDrawnAt);
    }
}

void
QkdLink::SetDrawHorizon(Time horizon)
{
    g_drawHorizon = horizon;
}

uint64_t
QkdLink::GetFrameEventCount()
{
    return g_frameEvents;
}

uint64_t
QkdLink::GetRedrawnFrameCount()
{
    return g_redrawnFrames;
}

void
QkdLink::CloseBlock()
{
    QkdBlock block = m_openBlock;
    block.closedAt = Simulator::Now();
    m_counters.blocksClosed++;
    m_blockClosedTrace(m_linkId, block.blockId, block.siftedBits);

    m_openBlock = QkdBlock{};
    m_openBlock.linkId = m_linkId;
    m_openBlock.blockId = m_nextBlockId++;
    m_openBlock.openedAt = Simulator::Now();

    if (!m_blockHandler.IsNull())
    {
        m_blockHandler(this, block);
    }
    else
    {
        FinishBlockIdeally(block);
    }
}

void
QkdLink::FinishBlockIdeally(const QkdBlock& block)
{
    if (block.MeasuredQber() > m_abortQber)
    {
        AbortBlock(block);
        return;
    }
    const auto secret = static_cast<uint64_t>(
        std::floor(static_cast<double>(block.siftedBits) * block.secretFraction));
    DeliverBlockKey(block, secret);
}

void
QkdLink::DeliverBlockKey(const QkdBlock& block, uint64_t secretBits)
{
    m_counters.blocksDistilled++;
    m_counters.secretBits += secretBits;
    if (secretBits > 0)
    {
        m_bufferA->AddKey(secretBits);
        m_bufferB->AddKey(secretBits);
    }
    m_keyDeliveredTrace(m_linkId, block.blockId, secretBits);
}

void
QkdLink::FailBlock(const QkdBlock& block)
{
    NS_LOG_LOGIC("link " << m_linkId << " block " << block.blockId << " failed");
    m_counters.blocksFailed++;
}

void
QkdLink::AbortBlock(const QkdBlock& block)
{
    NS_LOG_LOGIC("link " << m_linkId << " block " << block.blockId << " aborted, QBER "
                         << block.MeasuredQber());
    m_counters.blocksAborted++;
}

uint32_t
QkdLink::GetLinkId() const
{
    return m_linkId;
}

Ptr<Node>
QkdLink::GetEndA() const
{
    return m_endA;
}

Ptr<Node>
QkdLink::GetEndB() const
{
    return m_endB;
}

Ptr<Node>
QkdLink::GetRelay() const
{
    return m_relay;
}

Ptr<QkdKeyBuffer>
QkdLink::GetBufferA() const
{
    return m_bufferA;
}

Ptr<QkdKeyBuffer>
QkdLink::GetBufferB() const
{
    return m_bufferB;
}

Ptr<QkdKeyBuffer>
QkdLink::GetBufferAt(Ptr<Node> node) const
{
    if (node == m_endA)
    {
        return m_bufferA;
    }
    if (node == m_endB)
    {
        return m_bufferB;
    }
    return nullptr;
}

QkdLink::Protocol
QkdLink::GetProtocol() const
{
    return m_protocol;
}

double
QkdLink::GetGain() const
{
    return m_gain;
}

double
QkdLink::GetQber() const
{
    return m_qber;
}

double
QkdLink::GetSiftingRatio() const
{
    return m_siftingRatio;
}

double
QkdLink::GetSecretFraction() const
{
    return m_secretFraction;
}

double
QkdLink::GetPulseRateHz() const
{
    return m_pulseRateHz;
}

double
QkdLink::GetAbortQber() const
{
    return m_abortQber;
}

Time
QkdLink::GetFrameDuration() const
{
    return Seconds(static_cast<double>(m_framePulses) / m_pulseRateHz);
}

const QkdLinkCounters&
QkdLink::GetCounters()
{
    CatchUp();
    return m_counters;
}

QkdBytes
QkdLink::TakeKeyBytes(size_t n)
{
    return m_keyStream.Bytes(n);
}

int64_t
QkdLink::AssignStreams(int64_t stream)
{
    m_sampler.SetStream(stream);
    // Separate generator from the sampler's: drawing key bytes never shifts any sampled count.
    m_keyStream = QkdByteSource(static_cast<uint64_t>(stream) * 0x9e3779b97f4a7c15ULL ^
                                RngSeedManager::GetRun() * 0xd1b54a32d192ed03ULL ^
                                RngSeedManager::GetSeed());
    return 1;
}

void
QkdLink::DoDispose()
{
    m_frameEvent.Cancel();
    m_drawn.clear();
    m_blockHandler = BlockHandler();
    m_endA = nullptr;
    m_endB = nullptr;
    m_relay = nullptr;
    m_bufferA = nullptr;
    m_bufferB = nullptr;
    Object::DoDispose();
}

} // namespace ns3
