/*
 * qkdnet ns-3 module "qkd".
 *
 * Secret-key storage at one end of a QKD link.
 *
 * Modelled on QKDNetSim's QKDBuffer (Mehic et al. 2017) so results can be compared: a pre-shared
 * minimum M_min kept back for authentication, a capacity M_max, a threshold M_thr, and four
 * states with hysteresis:
 *   READY     level >= M_thr
 *   WARNING   M_min < level < M_thr, reached by draining from READY
 *   CHARGING  M_min < level < M_thr, reached by refilling from EMPTY
 *   EMPTY     level <= M_min (only the authentication reserve is left)
 * Applications may take key only above M_min; authentication may dig into the reserve.
 */
#ifndef QKD_KEY_BUFFER_H
#define QKD_KEY_BUFFER_H

#include "ns3/object.h"
#include "ns3/traced-callback.h"
#include "ns3/traced-value.h"

#include <cstdint>
#include <string>

namespace ns3
{

/**
 * @ingroup qkd
 * Key buffer of one link end; counts in bits.
 */
class QkdKeyBuffer : public Object
{
  public:
    /** Buffer state, QKDNetSim semantics (see file comment). */
    enum State
    {
        READY = 0,
        WARNING = 1,
        CHARGING = 2,
        EMPTY = 3,
    };

    /** Signature of the State trace source. */
    typedef void (*StateTracedCallback)(State oldState, State newState);
    /** Signature of the KeyExhausted trace source. */
    typedef void (*ExhaustedTracedCallback)(uint64_t bitsRequested);

    static TypeId GetTypeId();
    QkdKeyBuffer();

    /** Store fresh key; returns the bits actually stored (the rest overflowed the capacity). */
    uint64_t AddKey(uint64_t bits);

    /**
     * Take key for an application or a relay hop. Fails (and counts a key-exhausted event)
     * when it would leave less than the minimum; nothing is taken on failure.
     */
    bool ConsumeKey(uint64_t bits);

    /** Take key for message authentication; may use the reserve down to zero. */
    bool ConsumeAuthenticationKey(uint64_t bits);

    /** Bits an application could take now. */
    uint64_t GetAvailableBits() const;

    uint64_t GetLevelBits() const;
    uint64_t GetCapacityBits() const;
    uint64_t GetMinimumBits() const;
    uint64_t GetThresholdBits() const;
    State GetState() const;
    static std::string StateName(State state);

    uint64_t GetBitsAdded() const;
    uint64_t GetBitsOverflowed() const;
    uint64_t GetBitsConsumed() const;
    uint64_t GetAuthenticationBitsConsumed() const;
    uint64_t GetExhaustedEvents() const;

    /** Re-apply InitialBits and zero the counters (used when a scenario is rebuilt). */
    void Reset();

  protected:
    void NotifyConstructionCompleted() override;

  private:
    void UpdateState();

    uint64_t m_capacityBits;
    uint64_t m_minimumBits;
    uint64_t m_thresholdBits;
    uint64_t m_initialBits;

    TracedValue<uint64_t> m_levelBits;
    State m_state;

    uint64_t m_bitsAdded;
    uint64_t m_bitsOverflowed;
    uint64_t m_bitsConsumed;
    uint64_t m_authBitsConsumed;
    uint64_t m_exhaustedEvents;

    TracedCallback<State, State> m_stateTrace;
    TracedCallback<uint64_t> m_exhaustedTrace;
};

} // namespace ns3

#endif // QKD_KEY_BUFFER_H
