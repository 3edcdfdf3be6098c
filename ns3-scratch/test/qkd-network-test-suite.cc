/*
 * qkdnet ns-3 module "qkd": tests of the network model (post-processing traffic, relay over
 * trusted nodes, multipath shares, Byzantine behaviour, control channel).
 *
 * Topology used throughout (all links 20 km):   0 -- 1 -- 3
 *                                                \        /
 *                                                 2 ----
 */
#include "ns3/qkd-network.h"
#include "ns3/qkd-secret-sharing.h"
#include "ns3/simulator.h"
#include "ns3/test.h"

#include <string>
#include <vector>

using namespace ns3;

namespace
{

struct Outputs
{
    std::vector<double> values;
    uint32_t links{0};
    uint32_t demands{0};

    double Link(uint32_t link, const std::string& field) const
    {
        return At(1 + link * QkdNetwork::LinkOutputFields().size(), QkdNetwork::LinkOutputFields(),
                  field);
    }

    double Demand(uint32_t demand, const std::string& field) const
    {
        const size_t base = 1 + links * QkdNetwork::LinkOutputFields().size() +
                            demand * QkdNetwork::DemandOutputFields().size();
        return At(base, QkdNetwork::DemandOutputFields(), field);
    }

    double Node(uint32_t node, const std::string& field) const
    {
        const size_t base = 1 + links * QkdNetwork::LinkOutputFields().size() +
                            demands * QkdNetwork::DemandOutputFields().size() +
                            node * QkdNetwork::NodeOutputFields().size();
        return At(base, QkdNetwork::NodeOutputFields(), field);
    }

    double At(size_t base, const std::vector<std::string>& names, const std::string& field) const
    {
        for (size_t i = 0; i < names.size(); ++i)
        {
            if (names[i] == field)
            {
                return values[base + i];
            }
        }
        NS_FATAL_ERROR("no field " << field);
        return 0.0;
    }
};

struct Setup
{
    bool postProcessing{true};
    bool byzantine{false};
    double tamper{0.0};
    double drop{0.0};
    double forge{0.0};
    bool authenticate{true};
    std::vector<int32_t> routes{0, 1, 3, -1};
    uint32_t threshold{1};
    double qber{0.02};
    std::string dataRate{"1Gbps"};
    int steps{20};
};

Outputs
RunNetwork(const Setup& s)
{
    QkdNetwork net;
    net.SetLinkConfig(1'000'000, 100'000, 0.11);
    net.SetBufferConfig(100'000'000, 10'000, 1'000'000, 100'000);
    net.SetClassicalChannel(s.dataRate, 1000);
    net.SetPostProcessing(s.postProcessing, 1.16, 4, 64, 10.0);
    for (int i = 0; i < 4; ++i)
    {
        net.AddTrustedNode();
    }
    net.AddLink(0, 1, 20.0);
    net.AddLink(1, 3, 20.0);
    net.AddLink(0, 2, 20.0);
    net.AddLink(2, 3, 20.0);
    net.AddDemand(0, 3, 20'000.0);
    if (s.byzantine)
    {
        net.SetByzantine(1, 0.5, s.tamper, s.drop, 0.0, -0.02, 1.0, 0.0);
        net.SetByzantineForgeCopy(1, s.forge);
    }
    net.Build(3);
    net.SetDemandRoutes(0, s.routes.data(), s.routes.size(), s.threshold, s.authenticate);
    std::vector<double> in;
    for (int l = 0; l < 4; ++l)
    {
        in.insert(in.end(), {2e-3, s.qber, 0.5, 0.4, 1e9});
    }
    Outputs out;
    out.links = 4;
    out.demands = 1;
    out.values.assign(net.GetOutputSize(), 0.0);
    for (int i = 0; i < s.steps; ++i)
    {
        net.Step(0.1, in.data(), in.size(), out.values.data(), out.values.size());
    }
    net.Destroy();
    return out;
}

/** Post-processing is real traffic: it costs key and bytes and delays the key a little. */
class QkdPostProcessingTestCase : public TestCase
{
  public:
    QkdPostProcessingTestCase()
        : TestCase("post-processing sends authenticated messages and then fills the buffers")
    {
    }

  private:
    void DoRun() override
    {
        Setup ideal;
        ideal.postProcessing = false;
        const Outputs off = RunNetwork(ideal);
        const Outputs on = RunNetwork(Setup{});
        NS_TEST_ASSERT_MSG_GT(on.Link(0, "pp_messages"), 0.0, "messages were sent");
        NS_TEST_ASSERT_MSG_GT(on.Link(0, "pp_bytes"), 1e5, "bytes were sent");
        NS_TEST_ASSERT_MSG_GT(on.Link(0, "auth_a_bits"), 0.0, "authentication spent key");
        NS_TEST_ASSERT_MSG_EQ(on.Link(0, "auth_a_bits"), on.Link(0, "auth_b_bits"),
                              "both ends spend the same authentication key");
        NS_TEST_ASSERT_MSG_EQ(off.Link(0, "pp_messages"), 0.0, "no messages when ideal");
        NS_TEST_ASSERT_MSG_LT(on.Link(0, "buffer_a_bits"), off.Link(0, "buffer_a_bits"),
                              "authentication and delay cost key");
        NS_TEST_ASSERT_MSG_EQ(on.Link(0, "pp_timeouts"), 0.0, "no block timed out");
    }
};

/** A slow classical channel delays post-processing: key availability follows the network. */
class QkdCongestionTestCase : public TestCase
{
  public:
    QkdCongestionTestCase()
        : TestCase("a slow classical channel delays key delivery")
    {
    }

  private:
    void DoRun() override
    {
        Setup slow;
        slow.dataRate = "2Mbps"; // sifting alone needs ~3 Mbit/s here
        slow.steps = 10;
        Setup fast;
        fast.steps = 10;
        const Outputs a = RunNetwork(fast);
        const Outputs b = RunNetwork(slow);
        NS_TEST_ASSERT_MSG_LT(b.Link(0, "blocks_distilled"), a.Link(0, "blocks_distilled"),
                              "fewer blocks finished over the slow channel");
        NS_TEST_ASSERT_MSG_GT(b.Link(0, "pp_in_flight"), 0.0, "blocks still in flight");
    }
};

/** High-QBER blocks are aborted after sifting, over the network. */
class QkdAbortOverNetworkTestCase : public TestCase
{
  public:
    QkdAbortOverNetworkTestCase()
        : TestCase("blocks above the abort QBER are discarded after the exchange")
    {
    }

  private:
    void DoRun() override
    {
        Setup s;
        s.qber = 0.2;
        s.steps = 10;
        const Outputs out = RunNetwork(s);
        NS_TEST_ASSERT_MSG_GT(out.Link(0, "blocks_aborted"), 0.0, "aborted");
        NS_TEST_ASSERT_MSG_EQ(out.Link(0, "secret_bits"), 0.0, "no key");
    }
};

/** Honest relay over two hops delivers every request; both hops pay one-time-pad key. */
class QkdRelayTestCase : public TestCase
{
  public:
    QkdRelayTestCase()
        : TestCase("hop-by-hop relay delivers key and spends it on each hop")
    {
    }

  private:
    void DoRun() override
    {
        const Outputs out = RunNetwork(Setup{});
        const double requests = out.Demand(0, "requests");
        NS_TEST_ASSERT_MSG_GT(requests, 10.0, "requests made");
        // The last request may still be in flight when the run stops.
        NS_TEST_ASSERT_MSG_GT(out.Demand(0, "served"), requests - 2, "all but the last served");
        NS_TEST_ASSERT_MSG_EQ(out.Demand(0, "corrupted"), 0.0, "nothing corrupted");
        // 20 kbit/s x 0.1 s = 2000-bit keys; a single route carries the key itself as the share,
        // plus the recycled tag key (61 bits of end-to-end key for the next tag, in 8 bytes).
        const double shareBits = 2000.0 + 64.0;
        NS_TEST_ASSERT_MSG_EQ(out.Link(0, "consumed_a_bits"),
                              out.Demand(0, "shares_sent") * shareBits,
                              "first hop paid a pad for every share");
        NS_TEST_ASSERT_MSG_EQ(out.Link(1, "consumed_a_bits"),
                              out.Node(1, "shares_forwarded") * shareBits,
                              "second hop paid a pad for every forwarded share");
        NS_TEST_ASSERT_MSG_GT(out.Node(1, "shares_forwarded"), out.Demand(0, "shares_sent") - 2,
                              "node 1 forwarded the shares (the last may be in flight)");
    }
};

/** A tampering relay is caught by the share tags; without tags its key is accepted wrong. */
class QkdTamperTestCase : public TestCase
{
  public:
    QkdTamperTestCase()
        : TestCase("tampered shares are rejected with tags and accepted wrong without")
    {
    }

  private:
    void DoRun() override
    {
        Setup s;
        s.byzantine = true;
        s.tamper = 1.0;
        const Outputs tagged = RunNetwork(s);
        NS_TEST_ASSERT_MSG_GT(tagged.Demand(0, "shares_rejected"), 0.0, "tampering detected");
        NS_TEST_ASSERT_MSG_EQ(tagged.Demand(0, "corrupted"), 0.0, "never a wrong key");
        NS_TEST_ASSERT_MSG_EQ(tagged.Demand(0, "route0_rejected"),
                              tagged.Demand(0, "shares_rejected"),
                              "the lying route is named");
        s.authenticate = false;
        const Outputs untagged = RunNetwork(s);
        NS_TEST_ASSERT_MSG_GT(untagged.Demand(0, "corrupted"), 0.0, "wrong keys accepted");
        NS_TEST_ASSERT_MSG_EQ(untagged.Node(1, "byzantine_active"), 1.0, "node 1 is Byzantine");
    }
};

/** (2, 3) sharing over three routes survives one tampering route. */
class QkdThresholdTestCase : public TestCase
{
  public:
    QkdThresholdTestCase()
        : TestCase("threshold sharing delivers from the honest route despite a liar")
    {
    }

  private:
    void DoRun() override
    {
        Setup s;
        s.byzantine = true;
        s.tamper = 1.0;
        // Routes 0-1-3 (through the liar) and 0-2-3 with (1, 2) sharing: either share alone
        // rebuilds the key, so the honest route carries every request.
        s.routes = {0, 1, 3, -1, 0, 2, 3, -1};
        s.threshold = 1;
        const Outputs out = RunNetwork(s);
        const double requests = out.Demand(0, "requests");
        NS_TEST_ASSERT_MSG_GT(out.Demand(0, "served"), requests - 2, "served via route 1");
        NS_TEST_ASSERT_MSG_GT(out.Demand(0, "route0_rejected"), 0.0, "route 0 caught lying");
        NS_TEST_ASSERT_MSG_EQ(out.Demand(0, "route1_rejected"), 0.0, "route 1 honest");
    }
};

/**
 * A share counts as arrived only once its tag verifies: relay 1 sends a forged copy of every
 * share ahead of the genuine one, and with (2, 2) sharing the key needs that genuine share.
 * Also: the tag key is taken from the demand's end-to-end store and recycled by served keys.
 */
class QkdForgedCopyTestCase : public TestCase
{
  public:
    QkdForgedCopyTestCase()
        : TestCase("a forged early copy does not shadow the genuine share; tag key is spent")
    {
    }

  private:
    void DoRun() override
    {
        Setup s;
        s.byzantine = true;
        s.forge = 1.0;
        s.routes = {0, 1, 3, -1, 0, 2, 3, -1};
        s.threshold = 2;
        const Outputs out = RunNetwork(s);
        const double requests = out.Demand(0, "requests");
        NS_TEST_ASSERT_MSG_GT(requests, 10.0, "requests were made");
        NS_TEST_ASSERT_MSG_GT(out.Node(1, "shares_tampered"), 5.0, "relay 1 forged copies");
        NS_TEST_ASSERT_MSG_GT(out.Demand(0, "route0_rejected"), 5.0, "forged copies rejected");
        NS_TEST_ASSERT_MSG_GT(out.Demand(0, "served"), requests - 2, "genuine shares still used");
        NS_TEST_ASSERT_MSG_EQ(out.Demand(0, "corrupted"), 0.0, "no wrong key accepted");
        NS_TEST_ASSERT_MSG_EQ(out.Demand(0, "auth_key_bits"),
                              out.Demand(0, "shares_sent") * QkdMacKeyBits(),
                              "one tag's key per share sent");
        NS_TEST_ASSERT_MSG_GT_OR_EQ(out.Demand(0, "auth_recycled_bits"),
                                    out.Demand(0, "served") * 2 * QkdMacKeyBits(),
                                    "served keys carry their tags' key back");
        NS_TEST_ASSERT_MSG_GT_OR_EQ(out.Demand(0, "auth_store_bits"),
                                    100'000.0 - 4 * QkdMacKeyBits(),
                                    "the store stays near its pre-shared level");
        NS_TEST_ASSERT_MSG_EQ(out.Demand(0, "auth_exhausted"), 0.0, "never short of tag key");

        // Without tags nothing tells the copies apart: the first copy is taken, wrong keys are
        // accepted (the "no ABFT" baseline), and no tag key is spent.
        s.authenticate = false;
        const Outputs baseline = RunNetwork(s);
        NS_TEST_ASSERT_MSG_GT(baseline.Demand(0, "corrupted"), 5.0, "first copy decides");
        NS_TEST_ASSERT_MSG_EQ(baseline.Demand(0, "auth_key_bits"), 0.0, "no tags, no tag key");
    }
};

/** A dropping relay makes shares go missing; its reports lie from the onset. */
class QkdDropAndReportTestCase : public TestCase
{
  public:
    QkdDropAndReportTestCase()
        : TestCase("dropped shares go missing and false reports differ from the truth")
    {
    }

  private:
    void DoRun() override
    {
        Setup s;
        s.byzantine = true;
        s.drop = 1.0;
        const Outputs out = RunNetwork(s);
        NS_TEST_ASSERT_MSG_GT(out.Demand(0, "shares_missing"), 0.0, "shares missing");
        NS_TEST_ASSERT_MSG_GT(out.Node(1, "shares_dropped"), 0.0, "node 1 dropped them");
        // link 0 = (0, 1): end b is node 1 and lies by -0.02; end a (node 0) tells the truth.
        NS_TEST_ASSERT_MSG_EQ_TOL(out.Link(0, "reported_qber_b"),
                                  std::max(0.0, out.Link(0, "step_qber") - 0.02),
                                  1e-12,
                                  "node 1 under-reports QBER");
        NS_TEST_ASSERT_MSG_EQ(out.Link(0, "reported_qber_a"), out.Link(0, "step_qber"),
                              "node 0 reports the truth");
    }
};

/** Routes must follow links; bad ones are refused with a reason. */
class QkdBadRouteTestCase : public TestCase
{
  public:
    QkdBadRouteTestCase()
        : TestCase("routes that skip a link or end elsewhere are refused")
    {
    }

  private:
    void DoRun() override
    {
        QkdNetwork net;
        for (int i = 0; i < 4; ++i)
        {
            net.AddTrustedNode();
        }
        net.AddLink(0, 1, 20.0);
        net.AddLink(1, 3, 20.0);
        net.AddLink(0, 2, 20.0);
        net.AddDemand(0, 3, 1000.0);
        net.Build(1);
        bool refused = false;
        std::vector<int32_t> skip{0, 3};
        try
        {
            net.SetDemandRoutes(0, skip.data(), skip.size(), 1, true);
        }
        catch (const std::invalid_argument& e)
        {
            refused = std::string(e.what()).find("no QKD link between nodes 0 and 3") !=
                      std::string::npos;
        }
        NS_TEST_ASSERT_MSG_EQ(refused, true, "route over a missing link refused");
        refused = false;
        std::vector<int32_t> elsewhere{0, 2};
        try
        {
            net.SetDemandRoutes(0, elsewhere.data(), elsewhere.size(), 1, true);
        }
        catch (const std::invalid_argument& e)
        {
            refused = std::string(e.what()).find("must run from node 0 to node 3") !=
                      std::string::npos;
        }
        NS_TEST_ASSERT_MSG_EQ(refused, true, "route to the wrong node refused");
        net.Destroy();
    }
};

/** Control messages travel as packets and arrive after the path's delay. */
class QkdControlChannelTestCase : public TestCase
{
  public:
    QkdControlChannelTestCase()
        : TestCase("control messages arrive after the propagation delay of their route")
    {
    }

  private:
    void DoRun() override
    {
        QkdNetwork net;
        for (int i = 0; i < 3; ++i)
        {
            net.AddTrustedNode();
        }
        net.AddLink(0, 1, 100.0);
        net.AddLink(1, 2, 100.0);
        net.Build(1);
        net.SendControl(0, 2, 200, 77);
        std::vector<double> out(net.GetOutputSize());
        net.Step(0.01, nullptr, 0, out.data(), out.size());
        std::vector<double> got(4 * 4);
        const uint64_t n = net.DrainControl(got.data(), 4);
        NS_TEST_ASSERT_MSG_EQ(n, 1u, "one delivery");
        NS_TEST_ASSERT_MSG_EQ(got[0], 0.0, "a message");
        NS_TEST_ASSERT_MSG_EQ(got[1], 77.0, "its tag");
        NS_TEST_ASSERT_MSG_EQ(got[2], 2.0, "at node 2");
        // 200 km of fibre at 4.9 us/km = 0.98 ms, plus transmission times.
        NS_TEST_ASSERT_MSG_GT(got[3], 0.98e-3, "not before light gets there");
        NS_TEST_ASSERT_MSG_LT(got[3], 1.1e-3, "no extra delay on idle links");

        // With stop-on-control-events the run ends exactly at the delivery, then at the timer.
        net.SetStopOnControlEvents(true);
        const double start = net.GetNowSeconds();
        net.SendControl(0, 1, 100, 5);
        const uint64_t timer = net.ScheduleControlTimer(1, 0.004);
        const uint64_t cancelled = net.ScheduleControlTimer(1, 0.002);
        net.CancelControlTimer(cancelled);
        const double first = net.RunUntil(start + 1.0);
        NS_TEST_ASSERT_MSG_LT(first, start + 0.0006, "stopped at the 100 km delivery");
        NS_TEST_ASSERT_MSG_EQ(net.DrainControl(got.data(), 4), 1u, "the message");
        const double second = net.RunUntil(start + 1.0);
        NS_TEST_ASSERT_MSG_EQ_TOL(second, start + 0.004, 1e-9, "stopped at the timer");
        NS_TEST_ASSERT_MSG_EQ(net.DrainControl(got.data(), 4), 1u, "one timer fired");
        NS_TEST_ASSERT_MSG_EQ(got[0], 1.0, "a timer");
        NS_TEST_ASSERT_MSG_EQ(got[1], static_cast<double>(timer), "the uncancelled one");
        const double third = net.RunUntil(start + 0.5);
        NS_TEST_ASSERT_MSG_EQ_TOL(third, start + 0.5, 1e-9, "no stale stop cuts the run short");
        net.Destroy();
    }
};

class QkdNetworkTestSuite : public TestSuite
{
  public:
    QkdNetworkTestSuite()
        : TestSuite("qkd-network", Type::SYSTEM)
    {
        AddTestCase(new QkdPostProcessingTestCase(), Duration::QUICK);
        AddTestCase(new QkdCongestionTestCase(), Duration::QUICK);
        AddTestCase(new QkdAbortOverNetworkTestCase(), Duration::QUICK);
        AddTestCase(new QkdRelayTestCase(), Duration::QUICK);
        AddTestCase(new QkdTamperTestCase(), Duration::QUICK);
        AddTestCase(new QkdThresholdTestCase(), Duration::QUICK);
        AddTestCase(new QkdForgedCopyTestCase(), Duration::QUICK);
        AddTestCase(new QkdDropAndReportTestCase(), Duration::QUICK);
        AddTestCase(new QkdBadRouteTestCase(), Duration::QUICK);
        AddTestCase(new QkdControlChannelTestCase(), Duration::QUICK);
    }
};

} // namespace

static QkdNetworkTestSuite g_qkdNetworkTestSuite;
