/*
 * qkdnet ns-3 module "qkd": key buffer of one link end.
 */
#include "qkd-key-buffer.h"

#include "ns3/log.h"
#include "ns3/uinteger.h"

#include <algorithm>

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("QkdKeyBuffer");
NS_OBJECT_ENSURE_REGISTERED(QkdKeyBuffer);

TypeId
QkdKeyBuffer::GetTypeId()
{
    static TypeId tid =
        TypeId("ns3::QkdKeyBuffer")
            .SetParent<Object>()
            .SetGroupName("Qkd")
            .AddConstructor<QkdKeyBuffer>()
            .AddAttribute("CapacityBits",
                          "Most key bits the buffer holds (M_max); more key is discarded.",
                          UintegerValue(100'000'000),
                          MakeUintegerAccessor(&QkdKeyBuffer::m_capacityBits),
                          MakeUintegerChecker<uint64_t>(1))
            .AddAttribute("MinimumBits",
                          "Reserve kept for authentication (M_min); applications cannot use it.",
                          UintegerValue(0),
                          MakeUintegerAccessor(&QkdKeyBuffer::m_minimumBits),
                          MakeUintegerChecker<uint64_t>())
            .AddAttribute("ThresholdBits",
                          "Level at and above which the buffer is READY (M_thr).",
                          UintegerValue(1'000'000),
                          MakeUintegerAccessor(&QkdKeyBuffer::m_thresholdBits),
                          MakeUintegerChecker<uint64_t>())
            .AddAttribute("InitialBits",
                          "Pre-shared key at start (must cover MinimumBits to authenticate).",
                          UintegerValue(0),
                          MakeUintegerAccessor(&QkdKeyBuffer::m_initialBits),
                          MakeUintegerChecker<uint64_t>())
            .AddTraceSource("Level",
                            "Current key level in bits.",
                            MakeTraceSourceAccessor(&QkdKeyBuffer::m_levelBits),
                            "ns3::TracedValueCallback::Uint64")
            .AddTraceSource("State",
                            "State change (old, new).",
                            MakeTraceSourceAccessor(&QkdKeyBuffer::m_stateTrace),
                            "ns3::QkdKeyBuffer::StateTracedCallback")
            .AddTraceSource("KeyExhausted",
                            "A request for key failed; argument: bits requested.",
                            MakeTraceSourceAccessor(&QkdKeyBuffer::m_exhaustedTrace),
                            "ns3::QkdKeyBuffer::ExhaustedTracedCallback");
    return tid;
}

QkdKeyBuffer::QkdKeyBuffer()
    : m_capacityBits(100'000'000),
      m_minimumBits(0),
      m_thresholdBits(1'000'000),
      m_initialBits(0),
      m_levelBits(0),
      m_state(EMPTY),
      m_bitsAdded(0),
      m_bitsOverflowed(0),
      m_bitsConsumed(0),
      m_authBitsConsumed(0),
      m_exhaustedEvents(0)
{
}

void
QkdKeyBuffer::NotifyConstructionCompleted()
{
    Object::NotifyConstructionCompleted();
    Reset();
}

void
QkdKeyBuffer::Reset()
{
    m_levelBits = std::min(m_initialBits, m_capacityBits);
    m_state = m_levelBits >= m_thresholdBits ? READY : EMPTY;
    if (m_state == EMPTY && m_levelBits > m_minimumBits)
    {
        m_state = CHARGING;
    }
    m_bitsAdded = 0;
    m_bitsOverflowed = 0;
    m_bitsConsumed = 0;
    m_authBitsConsumed = 0;
    m_exhaustedEvents = 0;
}

uint64_t
QkdKeyBuffer::AddKey(uint64_t bits)
{
    const uint64_t level = m_levelBits;
    const uint64_t room = m_capacityBits > level ? m_capacityBits - level : 0;
    const uint64_t stored = std::min(bits, room);
    m_levelBits = level + stored;
    m_bitsAdded += stored;
    m_bitsOverflowed += bits - stored;
    UpdateState();
    return stored;
}

bool
QkdKeyBuffer::ConsumeKey(uint64_t bits)
{
    if (bits > GetAvailableBits())
    {
        ++m_exhaustedEvents;
        m_exhaustedTrace(bits);
        NS_LOG_LOGIC("key exhausted: asked " << bits << " have " << GetAvailableBits());
        return false;
    }
    m_levelBits = m_levelBits - bits;
    m_bitsConsumed += bits;
    UpdateState();
    return true;
}

bool
QkdKeyBuffer::ConsumeAuthenticationKey(uint64_t bits)
{
    if (bits > static_cast<uint64_t>(m_levelBits))
    {
        ++m_exhaustedEvents;
        m_exhaustedTrace(bits);
        return false;
    }
    m_levelBits = m_levelBits - bits;
    m_authBitsConsumed += bits;
    UpdateState();
    return true;
}

uint64_t
QkdKeyBuffer::GetAvailableBits() const
{
    const uint64_t level = m_levelBits;
    return level > m_minimumBits ? level - m_minimumBits : 0;
}

void
QkdKeyBuffer::UpdateState()
{
    const uint64_t level = m_levelBits;
    State next = m_state;
    if (level <= m_minimumBits)
    {
        next = EMPTY;
    }
    else if (level >= m_thresholdBits)
    {
        next = READY;
    }
    else if (m_state == READY)
    {
        next = WARNING;
    }
    else if (m_state == EMPTY)
    {
        next = CHARGING;
    }
    if (next != m_state)
    {
        const State old = m_state;
        m_state = next;
        m_stateTrace(old, next);
    }
}

uint64_t
QkdKeyBuffer::GetLevelBits() const
{
    return m_levelBits;
}

uint64_t
QkdKeyBuffer::GetCapacityBits() const
{
    return m_capacityBits;
}

uint64_t
QkdKeyBuffer::GetMinimumBits() const
{
    return m_minimumBits;
}

uint64_t
QkdKeyBuffer::GetThresholdBits() const
{
    return m_thresholdBits;
}

QkdKeyBuffer::State
QkdKeyBuffer::GetState() const
{
    return m_state;
}

std::string
QkdKeyBuffer::StateName(State state)
{
    switch (state)
    {
    case READY:
        return "ready";
    case WARNING:
        return "warning";
    case CHARGING:
        return "charging";
    case EMPTY:
        return "empty";
    }
    return "unknown";
}

uint64_t
QkdKeyBuffer::GetBitsAdded() const
{
    return m_bitsAdded;
}

uint64_t
QkdKeyBuffer::GetBitsOverflowed() const
{
    return m_bitsOverflowed;
}

uint64_t
QkdKeyBuffer::GetBitsConsumed() const
{
    return m_bitsConsumed;
}

uint64_t
QkdKeyBuffer::GetAuthenticationBitsConsumed() const
{
    return m_authBitsConsumed;
}

uint64_t
QkdKeyBuffer::GetExhaustedEvents() const
{
    return m_exhaustedEvents;
}

} // namespace ns3
