/*
 * qkdnet ns-3 module "qkd": tests of QkdLink sampling and block handling, run through QkdNetwork
 * exactly as the Python bridge drives it.
 */
#include "ns3/boolean.h"
#include "ns3/qkd-link.h"
#include "ns3/qkd-network.h"
#include "ns3/simulator.h"
#include "ns3/test.h"
#include "ns3/uinteger.h"

#include <cmath>
#include <vector>

using namespace ns3;

namespace
{

/** Index of a named output field of one link. */
size_t
Field(const char* name)
{
    const auto names = QkdNetwork::LinkOutputFields();
    for (size_t i = 0; i < names.size(); ++i)
    {
        if (names[i] == name)
        {
            return 1 + i; // outputs[0] is the time
        }
    }
    NS_FATAL_ERROR("no output field " << name);
    return 0;
}

/** Run one 2-node link for `steps` steps of `dt` with a fixed operating point. */
std::vector<double>
RunLink(double gain, double qber, double secretFraction, uint64_t seed, int steps, double dt)
{
    QkdNetwork net;
    net.SetLinkConfig(100'000, 10'000, 0.11);
    const uint32_t a = net.AddTrustedNode();
    const uint32_t b = net.AddTrustedNode();
    net.AddLink(a, b, 10.0);
    net.Build(seed);
    std::vector<double> in = {gain, qber, 0.5, secretFraction, 1e8};
    std::vector<double> out(net.GetOutputSize());
    for (int i = 0; i < steps; ++i)
    {
        net.Step(dt, in.data(), in.size(), out.data(), out.size());
    }
    net.Destroy();
    return out;
}

/** Gain 1 and QBER 0 make the link deterministic: every pulse detected, half sifted. */
class QkdLinkDeterministicTestCase : public TestCase
{
  public:
    QkdLinkDeterministicTestCase()
        : TestCase("link with gain 1, QBER 0 detects every pulse and never errs")
    {
    }

  private:
    void DoRun() override
    {
        // 1e8 pulses/s, frames of 1e5 pulses => 1 ms frames; 0.01 s => 10 frames.
        const auto out = RunLink(1.0, 0.0, 0.5, 1, 1, 0.01);
        NS_TEST_ASSERT_MSG_EQ(out[Field("frames")], 10.0, "10 frames of 1 ms in 10 ms");
        NS_TEST_ASSERT_MSG_EQ(out[Field("detections")], 1e6, "every pulse detected");
        NS_TEST_ASSERT_MSG_EQ(out[Field("error_bits")], 0.0, "no errors at QBER 0");
        const double sifted = out[Field("sifted_bits")];
        // Bin(1e6, 0.5): 6 sigma = 3000.
        NS_TEST_ASSERT_MSG_EQ_TOL(sifted, 5e5, 3000.0, "about half the detections sifted");
        NS_TEST_ASSERT_MSG_EQ(out[Field("buffer_a_bits")], out[Field("buffer_b_bits")],
                              "both ends hold the same key");
    }
};

/** Blocks whose measured QBER is above the abort threshold never reach the buffers. */
class QkdLinkAbortTestCase : public TestCase
{
  public:
    QkdLinkAbortTestCase()
        : TestCase("blocks above the abort QBER are discarded and counted")
    {
    }

  private:
    void DoRun() override
    {
        const auto out = RunLink(0.01, 0.2, 0.5, 3, 5, 0.1);
        NS_TEST_ASSERT_MSG_GT(out[Field("blocks_aborted")], 0.0, "blocks were aborted");
        NS_TEST_ASSERT_MSG_EQ(out[Field("blocks_distilled")], 0.0, "none distilled");
        NS_TEST_ASSERT_MSG_EQ(out[Field("buffer_a_bits")], 0.0, "no key at QBER 20%");
    }
};

/** The same run number reproduces a run exactly; another one does not. */
class QkdLinkSeedTestCase : public TestCase
{
  public:
    QkdLinkSeedTestCase()
        : TestCase("same seed reproduces the run bit for bit, another seed differs")
    {
    }

  private:
    void DoRun() override
    {
        const auto first = RunLink(1e-3, 0.03, 0.3, 7, 3, 0.1);
        const auto again = RunLink(1e-3, 0.03, 0.3, 7, 3, 0.1);
        const auto other = RunLink(1e-3, 0.03, 0.3, 8, 3, 0.1);
        bool same = true;
        for (size_t i = 0; i < first.size(); ++i)
        {
            same = same && first[i] == again[i];
        }
        NS_TEST_ASSERT_MSG_EQ(same, true, "identical outputs for the same seed");
        NS_TEST_ASSERT_MSG_NE(first[Field("detections")], other[Field("detections")],
                              "different detections for another seed");
    }
};

/**
 * One bare link (no network, no step horizon: frames are drawn ahead as far as a block) whose
 * inputs change between frames, on and off the frame grid, including its pulse rate (which moves
 * every later frame); its counters are read mid-run too. Returns every counter read.
 */
std::vector<uint64_t>
RunBareLink(bool aggregate)
{
    QkdLink::SetDrawHorizon(Time::Max());
    Ptr<QkdLink> link = CreateObjectWithAttributes<QkdLink>("FramePulses",
                                                            UintegerValue(100'000),
                                                            "BlockSizeBits",
                                                            UintegerValue(3'000),
                                                            "AggregateFrames",
                                                            BooleanValue(aggregate));
    Ptr<Node> a = CreateObject<Node>();
    Ptr<Node> b = CreateObject<Node>();
    link->Setup(0, a, b, CreateObject<QkdKeyBuffer>(), CreateObject<QkdKeyBuffer>());
    link->AssignStreams(11);
    link->SetPulseRateHz(1e8); // 1 ms frames
    link->SetOperatingPoint(0.01, 0.03, 0.5, 0.4);
    link->Start(Seconds(0));
    std::vector<uint64_t> reads;
    auto read = [&reads, link]() {
        const QkdLinkCounters& c = link->GetCounters();
        reads.insert(reads.end(),
                     {c.framesSent,
                      c.detections,
                      c.siftedBits,
                      c.errorBits,
                      c.blocksClosed,
                      c.blocksDistilled,
                      c.secretBits,
                      link->GetBufferA()->GetAvailableBits()});
    };
    Simulator::Schedule(MicroSeconds(5500), read);
    Simulator::Schedule(MilliSeconds(7), [link]() {
        link->SetOperatingPoint(0.02, 0.05, 0.5, 0.3); // on the grid: frame 7 uses the new point
    });
    Simulator::Schedule(MicroSeconds(12300), [link]() { link->SetPulseRateHz(2.5e8); });
    Simulator::Schedule(MilliSeconds(20), read);
    Simulator::Schedule(MicroSeconds(26100), [link]() {
        link->SetOperatingPoint(0.02, 0.05, 0.5, 0.3); // unchanged: draws ahead stay valid
    });
    Simulator::Schedule(MicroSeconds(31700), [link]() { link->Stop(); });
    Simulator::Stop(MilliSeconds(40));
    Simulator::Run();
    read();
    Simulator::Destroy();
    return reads;
}

/** Aggregated frames count exactly what one event per frame counts, inputs changing mid-run. */
class QkdLinkAggregationTestCase : public TestCase
{
  public:
    QkdLinkAggregationTestCase()
        : TestCase("aggregated frames give the per-frame counters when inputs change mid-run")
    {
    }

  private:
    void DoRun() override
    {
        const uint64_t redrawn0 = QkdLink::GetRedrawnFrameCount();
        const uint64_t events0 = QkdLink::GetFrameEventCount();
        const auto framed = RunBareLink(false);
        const uint64_t framedEvents = QkdLink::GetFrameEventCount() - events0;
        const auto aggregated = RunBareLink(true);
        const uint64_t aggregatedEvents =
            QkdLink::GetFrameEventCount() - events0 - framedEvents;
        NS_TEST_ASSERT_MSG_EQ(framed.size(), aggregated.size(), "same number of reads");
        for (size_t i = 0; i < framed.size(); ++i)
        {
            NS_TEST_ASSERT_MSG_EQ(framed[i], aggregated[i], "counter " << i % 8 << " of read "
                                                                        << i / 8 << " differs");
        }
        NS_TEST_ASSERT_MSG_GT(framed[framed.size() - 8 + 4], 2, "blocks closed in the run");
        NS_TEST_ASSERT_MSG_GT(QkdLink::GetRedrawnFrameCount(), redrawn0, "draws were put back");
        NS_TEST_ASSERT_MSG_LT(aggregatedEvents, framedEvents, "fewer events aggregated");
    }
};

class QkdLinkTestSuite : public TestSuite
{
  public:
    QkdLinkTestSuite()
        : TestSuite("qkd-link", Type::UNIT)
    {
        AddTestCase(new QkdLinkDeterministicTestCase(), Duration::QUICK);
        AddTestCase(new QkdLinkAbortTestCase(), Duration::QUICK);
        AddTestCase(new QkdLinkSeedTestCase(), Duration::QUICK);
        AddTestCase(new QkdLinkAggregationTestCase(), Duration::QUICK);
    }
};

} // namespace

static QkdLinkTestSuite g_qkdLinkTestSuite;
