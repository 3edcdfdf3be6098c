/*
 * qkdnet ns-3 module "qkd": a small trusted-node network with key relay and a Byzantine relay.
 *
 *         B
 *       /   \
 *     A       D      demand A -> D, (2, 3)-threshold shares over the three relays B, C, E;
 *     | \   / |      relay C tampers with every share it forwards from --onsetS on.
 *     |   C   |
 *      \     /
 *         E
 *
 * Every link runs the same fixed operating point (in qkdnet the bridge computes it per link with
 * qchannel); key relay, sharing, tags and the Byzantine relay are all ns-3 traffic. The output is
 * CSV per step: delivered and rejected shares show that the key still arrives, from the honest
 * paths, while the tampered shares are caught.
 *
 *   qkd-relay-network-example --seconds=2 --onsetS=0.5 --threshold=2
 */
#include "ns3/command-line.h"
#include "ns3/qkd-module.h"

#include <iostream>
#include <string>
#include <vector>

using namespace ns3;

namespace
{

/** Value of output `name` of element `index` in a block of `fields` columns at `offset`. */
double
Output(const std::vector<double>& out,
       const std::vector<std::string>& fields,
       uint64_t offset,
       uint32_t index,
       const std::string& name)
{
    for (size_t i = 0; i < fields.size(); ++i)
    {
        if (fields[i] == name)
        {
            return out[offset + index * fields.size() + i];
        }
    }
    return -1.0;
}

} // namespace

int
main(int argc, char* argv[])
{
    double seconds = 2.0;
    double stepS = 0.1;
    double onsetS = 0.5;
    double rateBps = 20000;
    uint32_t threshold = 2;
    uint64_t seed = 1;

    CommandLine cmd(__FILE__);
    cmd.AddValue("seconds", "simulated time", seconds);
    cmd.AddValue("stepS", "report interval", stepS);
    cmd.AddValue("onsetS", "when relay C starts tampering", onsetS);
    cmd.AddValue("rateBps", "key demand of A -> D", rateBps);
    cmd.AddValue("threshold", "shares needed out of the three paths (1..3)", threshold);
    cmd.AddValue("seed", "ns-3 run number", seed);
    cmd.Parse(argc, argv);

    QkdNetwork net;
    net.SetLinkConfig(1000000, 20000, 0.11);
    const uint32_t a = net.AddTrustedNode();
    const uint32_t b = net.AddTrustedNode();
    const uint32_t c = net.AddTrustedNode();
    const uint32_t e = net.AddTrustedNode();
    const uint32_t d = net.AddTrustedNode();
    for (uint32_t relay : {b, c, e})
    {
        net.AddLink(a, relay, 15.0);
        net.AddLink(relay, d, 15.0);
    }
    const uint32_t demand = net.AddDemand(a, d, rateBps);
    net.SetByzantine(c, onsetS, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0);
    net.Build(seed);

    const std::vector<int32_t> routes = {static_cast<int32_t>(a), static_cast<int32_t>(b),
                                         static_cast<int32_t>(d), -1,
                                         static_cast<int32_t>(a), static_cast<int32_t>(c),
                                         static_cast<int32_t>(d), -1,
                                         static_cast<int32_t>(a), static_cast<int32_t>(e),
                                         static_cast<int32_t>(d), -1};
    net.SetDemandRoutes(demand, routes.data(), routes.size(), threshold, true);

    // gain, qber, sifting ratio, secret fraction, pulse rate: one row per link
    std::vector<double> in;
    for (uint32_t link = 0; link < net.GetNLinks(); ++link)
    {
        in.insert(in.end(), {2.5e-3, 0.03, 0.5, 0.45, 1e9});
    }
    std::vector<double> out(net.GetOutputSize());
    const auto linkFields = QkdNetwork::LinkOutputFields();
    const auto demandFields = QkdNetwork::DemandOutputFields();
    const uint64_t demandOffset = 1 + net.GetNLinks() * linkFields.size();
    auto demandOutput = [&](const std::string& name) {
        return Output(out, demandFields, demandOffset, demand, name);
    };

    std::cout << "time_s,requests,served,delivered_bits,shares_rejected,corrupted,"
                 "route1_rejected,key_bits_a_b\n";
    const int steps = static_cast<int>(seconds / stepS + 0.5);
    for (int i = 0; i < steps; ++i)
    {
        net.Step(stepS, in.data(), in.size(), out.data(), out.size());
        std::cout << out[0] << "," << demandOutput("requests") << "," << demandOutput("served")
                  << "," << demandOutput("delivered_bits") << ","
                  << demandOutput("shares_rejected") << "," << demandOutput("corrupted") << ","
                  << demandOutput("route1_rejected") << ","
                  << Output(out, linkFields, 1, 0, "buffer_a_bits") << "\n";
    }
    net.Destroy();
    return 0;
}
