/*
 * qkdnet ns-3 module "qkd": tests of QkdLink sampling and block handling, run through QkdNetwork
 * exactly as the Python bridge drives it.
 */
#include "ns3/qkd-network.h"
#include "ns3/simulator.h"
#include "ns3/test.h"

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

class QkdLinkTestSuite : public TestSuite
{
  public:
    QkdLinkTestSuite()
        : TestSuite("qkd-link", Type::UNIT)
    {
        AddTestCase(new QkdLinkDeterministicTestCase(), Duration::QUICK);
        AddTestCase(new QkdLinkAbortTestCase(), Duration::QUICK);
        AddTestCase(new QkdLinkSeedTestCase(), Duration::QUICK);
    }
};

} // namespace

static QkdLinkTestSuite g_qkdLinkTestSuite;
