/*
 * qkdnet ns-3 module "qkd".
 *
 * A QKD link between two trusted nodes, simulated frame by frame.
 *
 * The physics lives in Python (qchannel): it tells the link, for the link's current hardware and
 * channel, the probability that a pulse is detected (gain), the error rate of sifted bits (QBER),
 * the fraction of detections kept after basis sifting, and how many secret bits each sifted bit
 * is worth (secret fraction). The link only *samples* from these numbers, so that
 * statistical fluctuations, block aborts and key-buffer dynamics come out of a real stochastic
 * process on ns-3's seeded streams. Inputs can change between any two frames.
 *
 * Frame k starts at k*T (T = FramePulses / pulse rate) and is sampled with the operating point in
 * force at its start:  detections ~ Bin(N, gain), sifted ~ Bin(detections, sifting ratio),
 * errors ~ Bin(sifted, QBER). Sifted bits accumulate into blocks of BlockSizeBits; a finished
 * block is post-processed (by an attached post-processor that exchanges real packets, or ideally
 * at once) and, unless its measured QBER is above the abort threshold, yields
 * floor(sifted * secret fraction) secret bits into both ends' key buffers.
 *
 * Frames are aggregated (attribute AggregateFrames, on by default): one event draws the link's
 * successive frames in order from the link's own stream, up to the frame that closes the open
 * block (or the end of the step the network is running to), and the next event fires at that
 * frame's time. Frames whose time has passed are counted when anyone reads the counters; an input
 * change puts back the draws of frames that have not happened yet (the stream is rewound), so
 * every counter, block and key delivery is the one the frame-by-frame path gives, bit for bit,
 * with one event per block instead of one per frame.
 *
 * For an MDI-QKD link the same sampling applies to Bell-state-measurement successes announced by
 * the untrusted relay in the middle; a dishonest relay can flip a fraction of its announcements.
 */
#ifndef QKD_LINK_H
#define QKD_LINK_H

#include "qkd-binomial-sampler.h"
#include "qkd-key-buffer.h"
#include "qkd-secret-sharing.h"

#include "ns3/callback.h"
#include "ns3/event-id.h"
#include "ns3/node.h"
#include "ns3/nstime.h"
#include "ns3/object.h"
#include "ns3/ptr.h"
#include "ns3/traced-callback.h"

#include <cstdint>
#include <vector>

namespace ns3
{

/** A block of sifted key waiting for (or going through) post-processing. */
struct QkdBlock
{
    uint32_t linkId{0};
    uint64_t blockId{0};
    uint64_t siftedBits{0};
    uint64_t errorBits{0};
    uint64_t detections{0};
    uint64_t pulses{0};
    double secretFraction{0.0};
    Time openedAt;
    Time closedAt;

    /** QBER measured on this block (error estimation on the whole block). */
    double MeasuredQber() const
    {
        return siftedBits > 0 ? static_cast<double>(errorBits) / static_cast<double>(siftedBits)
                              : 0.0;
    }
};

/** Cumulative counters of one link; the bridge reads them once per step. */
struct QkdLinkCounters
{
    uint64_t framesSent{0};
    uint64_t pulsesSent{0};
    uint64_t detections{0};
    uint64_t siftedBits{0};
    uint64_t errorBits{0};
    uint64_t blocksClosed{0};
    uint64_t blocksAborted{0};
    uint64_t blocksFailed{0};
    uint64_t blocksDistilled{0};
    uint64_t secretBits{0};
    uint64_t flippedAnnouncements{0};
};

/**
 * @ingroup qkd
 * Point-to-point (BB84-decoy) or relay-assisted (MDI-QKD) QKD link between trusted nodes.
 */
class QkdLink : public Object
{
  public:
    enum Protocol
    {
        BB84_DECOY = 0,
        MDI = 1,
    };

    /** Handler of closed blocks; returns nothing, calls DeliverBlockKey/FailBlock later. */
    typedef Callback<void, Ptr<QkdLink>, QkdBlock> BlockHandler;
    /** Signature of the BlockClosed / KeyDelivered trace sources. */
    typedef void (*BlockTracedCallback)(uint32_t linkId, uint64_t blockId, uint64_t bits);

    static TypeId GetTypeId();
    QkdLink();

    /** Wire the link to its two trusted ends (and, for MDI, the untrusted relay). */
    void Setup(uint32_t linkId,
               Ptr<Node> endA,
               Ptr<Node> endB,
               Ptr<QkdKeyBuffer> bufferA,
               Ptr<QkdKeyBuffer> bufferB,
               Ptr<Node> relay = nullptr);

    /** Begin emitting frames at simulation time `start`. */
    void Start(Time start);
    /** Stop emitting frames (pending post-processing still completes). */
    void Stop();

    /**
     * Set the operating point computed by qchannel; takes effect from the next frame.
     * Throws std::invalid_argument on values outside their physical range.
     */
    void SetOperatingPoint(double gain, double qber, double siftingRatio, double secretFraction);
    /** Source repetition rate in Hz; takes effect from the next frame. */
    void SetPulseRateHz(double pulseRateHz);
    /**
     * Throw std::invalid_argument as SetOperatingPoint/SetPulseRateHz would, changing nothing:
     * a network checks every link's new inputs before applying any (no object needed).
     */
    static void ValidateInputs(double gain,
                               double qber,
                               double siftingRatio,
                               double secretFraction,
                               double pulseRateHz);
    /** Probability that the relay flips an announced BSM result (Byzantine MDI relay). */
    void SetAnnouncementFlipProbability(double probability);
    /** Switch protocol (the bridge sets the matching operating point). */
    void SetProtocol(Protocol protocol);

    /** Post-process closed blocks with `handler` instead of ideally and at once. */
    void SetBlockHandler(BlockHandler handler);

    /** Called by a post-processor: block finished, put `secretBits` into both buffers. */
    void DeliverBlockKey(const QkdBlock& block, uint64_t secretBits);
    /** Called by a post-processor: block lost (e.g. messages timed out); counted. */
    void FailBlock(const QkdBlock& block);
    /** Called by a post-processor: block's QBER above threshold; discarded and counted. */
    void AbortBlock(const QkdBlock& block);

    uint32_t GetLinkId() const;
    Ptr<Node> GetEndA() const;
    Ptr<Node> GetEndB() const;
    Ptr<Node> GetRelay() const;
    Ptr<QkdKeyBuffer> GetBufferA() const;
    Ptr<QkdKeyBuffer> GetBufferB() const;
    /** Buffer at `node`'s end (nullptr if the node is not an end of this link). */
    Ptr<QkdKeyBuffer> GetBufferAt(Ptr<Node> node) const;
    Protocol GetProtocol() const;
    double GetGain() const;
    double GetQber() const;
    double GetSiftingRatio() const;
    double GetSecretFraction() const;
    double GetPulseRateHz() const;
    double GetAbortQber() const;
    Time GetFrameDuration() const;
    /** Counters of every frame that has happened (frames drawn ahead are not counted yet). */
    const QkdLinkCounters& GetCounters();

    /**
     * The time the running simulation stops at (QkdNetwork::RunUntilNs sets it): aggregated
     * frames are drawn ahead only up to it, because inputs may change there. Any later time is
     * still exact (inputs changed earlier rewind the draws); this only avoids drawing frames
     * that would be put back.
     */
    static void SetDrawHorizon(Time horizon);
    /** Events all links have executed so far: one per frame, or, aggregated, the events at
     * block-closing frames and at step ends plus the relay events that schedule them. */
    static uint64_t GetFrameEventCount();
    /** Frames drawn ahead and put back (an input changed before they happened), all links. */
    static uint64_t GetRedrawnFrameCount();

    /**
     * The next `n` bytes of this link's secret key, as both ends hold them. The buffers count
     * key in bits; this is the material behind those bits for a consumer that needs the bytes
     * (a key handed to an application). Both ends take key in the same order, so one stream,
     * seeded per link and per run, stands for the identical key the two ends distilled.
     */
    QkdBytes TakeKeyBytes(size_t n);

    /** ns-3 convention: pin the random streams; returns how many streams were used. */
    int64_t AssignStreams(int64_t stream);

  protected:
    void DoDispose() override;

  private:
    /** One frame's sampled counts. */
    struct FrameDraw
    {
        uint64_t detections{0};
        uint64_t sifted{0};
        uint64_t errors{0};
        uint64_t flipped{0};
    };

    /** A frame drawn ahead: when it happens, what it drew, and the stream before the draw. */
    struct DrawnFrame
    {
        Time at;
        Time previousAt; //!< the frame before it (where frame-by-frame would schedule it)
        FrameDraw draw;
        RngStream before;
    };

    /** Sample one frame with the inputs in force. */
    FrameDraw SampleFrame();
    /** Count one frame that happened now; closes the block when it is full. */
    void ApplyFrame(const FrameDraw& frame);
    /** Frame-by-frame path: one event per frame. */
    void EmitFrame();
    /** Aggregated path: the event at a block-closing frame, or at the first frame not drawn. */
    void OnFrames();
    /**
     * Schedule OnFrames at frame time `at` from the time of the frame before it, `previousAt`,
     * via a relay event there if that is later than now. Frame-by-frame, the event of a frame
     * is scheduled by the frame before it; scheduling it from the same time keeps its place
     * among other events at the same time stamp (ns-3 runs those in the order they were
     * scheduled): e.g. a step's stop at that time, set after an early stop for a control
     * message, still comes first.
     */
    void ScheduleFramesAt(Time at, Time previousAt);
    /** The relay event of ScheduleFramesAt: schedules OnFrames at m_relayTarget. */
    void RelayFrames();
    /** Draw frames from m_nextFrameAt until one closes the block, the horizon, or a cap. */
    void DrawAhead(Time now);
    /** Count the drawn frames before `t` (and at `t` when `inclusive`). */
    void ApplyDrawnUntil(Time t, bool inclusive);
    /** Count the frames that have happened (before now); the rest stay drawn. */
    void CatchUp();
    /** CatchUp, then put back the draws of frames not yet happened: an input is changing. */
    void DiscardDrawnAhead();
    void CloseBlock();
    void FinishBlockIdeally(const QkdBlock& block);

    uint32_t m_linkId;
    Ptr<Node> m_endA;
    Ptr<Node> m_endB;
    Ptr<Node> m_relay;
    Ptr<QkdKeyBuffer> m_bufferA;
    Ptr<QkdKeyBuffer> m_bufferB;

    Protocol m_protocol;
    uint64_t m_framePulses;
    uint64_t m_blockSizeBits;
    double m_abortQber;
    double m_pulseRateHz;
    double m_gain;
    double m_qber;
    double m_siftingRatio;
    double m_secretFraction;
    double m_flipProbability;

    QkdBinomialSampler m_sampler;
    QkdByteSource m_keyStream{0}; //!< the key material both ends share (see TakeKeyBytes)
    EventId m_frameEvent;
    bool m_running;
    bool m_aggregate;
    Time m_nextFrameAt;                //!< first frame not drawn yet (aggregated path)
    Time m_lastDrawnAt;                //!< the frame before m_nextFrameAt
    Time m_relayTarget;                //!< frame time the pending relay event schedules
    std::vector<DrawnFrame> m_drawn;   //!< frames drawn ahead, in time order
    size_t m_drawnApplied{0};          //!< how many of m_drawn have happened and are counted
    bool m_drawnCloses{false};         //!< the last drawn frame closes the open block

    QkdBlock m_openBlock;
    uint64_t m_nextBlockId;
    BlockHandler m_blockHandler;
    QkdLinkCounters m_counters;

    TracedCallback<uint32_t, uint64_t, uint64_t> m_blockClosedTrace;
    TracedCallback<uint32_t, uint64_t, uint64_t> m_keyDeliveredTrace;
};

} // namespace ns3

#endif // QKD_LINK_H
