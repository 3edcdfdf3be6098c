"""The route cache in front of ns-3's global routing answers exactly as global routing does.

QkdCachedGlobalRouting remembers Ipv4GlobalRouting's lookup per destination (see its header):
here every node's cached route to every interface address of the network, asked twice (the
second answer comes from the cache), is compared with the uncached lookup of the base class
(called non-virtually from C++), field by field.
"""

from __future__ import annotations

import cppyy

from bridge.ns3_runtime import load_ns
from bridge.scenario import QkdScenario

from ._scenarios import scenario, three_path_topology

_COMPARE_CPP = r"""
#include "ns3/internet-module.h"
#include "ns3/qkd-cached-global-routing.h"

namespace qkdnet_test
{
/** Mismatches between cached and plain global routes from `node` to every address; -1: no cache. */
int
CompareCachedRoutes(ns3::Ptr<ns3::Node> node, uint32_t nodes)
{
    using namespace ns3;
    Ptr<Ipv4RoutingProtocol> top = node->GetObject<Ipv4>()->GetRoutingProtocol();
    Ptr<Ipv4ListRouting> list = DynamicCast<Ipv4ListRouting>(top);
    Ptr<QkdCachedGlobalRouting> cached;
    for (uint32_t i = 0; i < list->GetNRoutingProtocols(); ++i)
    {
        int16_t priority;
        cached = DynamicCast<QkdCachedGlobalRouting>(list->GetRoutingProtocol(i, priority));
        if (cached) break;
    }
    if (!cached) return -1;
    int mismatches = 0;
    for (uint32_t other = 0; other < nodes; ++other)
    {
        Ptr<Ipv4> ipv4 = NodeList::GetNode(other)->GetObject<Ipv4>();
        for (uint32_t itf = 1; itf < ipv4->GetNInterfaces(); ++itf)
        {
            Ipv4Header header;
            header.SetDestination(ipv4->GetAddress(itf, 0).GetLocal());
            Socket::SocketErrno e1, e2, e3;
            Ptr<Ipv4Route> plain =
                cached->Ipv4GlobalRouting::RouteOutput(nullptr, header, nullptr, e1);
            for (int ask = 0; ask < 2; ++ask)
            {
                Ptr<Ipv4Route> got = cached->RouteOutput(nullptr, header, nullptr, ask ? e2 : e3);
                const bool same = (!plain && !got) ||
                    (plain && got && plain->GetDestination() == got->GetDestination() &&
                     plain->GetSource() == got->GetSource() &&
                     plain->GetGateway() == got->GetGateway() &&
                     plain->GetOutputDevice() == got->GetOutputDevice());
                mismatches += same ? 0 : 1;
            }
        }
    }
    return mismatches;
}
} // namespace qkdnet_test
"""


def test_cached_global_routes_equal_the_plain_lookup(tmp_path):
    load_ns()
    if not hasattr(cppyy.gbl, "qkdnet_test"):
        cppyy.cppdef(_COMPARE_CPP)
    config = scenario(three_path_topology(tmp_path / "three.yaml"))
    with QkdScenario(config) as sim:
        sim.step()  # packets flowed: the caches hold routes
        network = sim.runtime.network
        n = int(network.GetNNodes())
        for node in range(n):
            assert cppyy.gbl.qkdnet_test.CompareCachedRoutes(network.GetNode(node), n) == 0
