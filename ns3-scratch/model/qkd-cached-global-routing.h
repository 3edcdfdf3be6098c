/*
 * qkdnet ns-3 module "qkd": ns-3's global routing with a per-destination route cache.
 */
#ifndef QKD_CACHED_GLOBAL_ROUTING_H
#define QKD_CACHED_GLOBAL_ROUTING_H

#include "ns3/ipv4-global-routing-helper.h"
#include "ns3/ipv4-global-routing.h"

#include <cstdint>
#include <unordered_map>

namespace ns3
{

/**
 * @ingroup qkd
 * Ipv4GlobalRouting whose lookups are remembered per (destination, output device).
 *
 * Why: Ipv4GlobalRouting::LookupGlobal scans every host route and then every network route of the
 * node on every packet, and a node of an n-node network holds O(links) of them, so the cost of
 * each forwarded or sent packet grows with the network (at 200 nodes ~1,200 entries per lookup).
 * The routing tables are filled once (PopulateRoutingTables) and never change while a scenario
 * runs, so the first lookup's answer is the answer: later ones cost one hash lookup. The routes
 * returned are exactly those LookupGlobal returns (the first matching host route, else the first
 * matching network route), so every counter stays the same. With random ECMP routing on (a random
 * draw per packet) nothing is cached; interface changes clear the cache.
 */
class QkdCachedGlobalRouting : public Ipv4GlobalRouting
{
  public:
    static TypeId GetTypeId();

    Ptr<Ipv4Route> RouteOutput(Ptr<Packet> p,
                               const Ipv4Header& header,
                               Ptr<NetDevice> oif,
                               Socket::SocketErrno& sockerr) override;
    bool RouteInput(Ptr<const Packet> p,
                    const Ipv4Header& header,
                    Ptr<const NetDevice> idev,
                    const UnicastForwardCallback& ucb,
                    const MulticastForwardCallback& mcb,
                    const LocalDeliverCallback& lcb,
                    const ErrorCallback& ecb) override;
    void NotifyInterfaceUp(uint32_t interface) override;
    void NotifyInterfaceDown(uint32_t interface) override;
    void NotifyAddAddress(uint32_t interface, Ipv4InterfaceAddress address) override;
    void NotifyRemoveAddress(uint32_t interface, Ipv4InterfaceAddress address) override;
    void SetIpv4(Ptr<Ipv4> ipv4) override;

    /** Forget every remembered route (call after the routing tables were (re)filled). */
    void ClearRouteCache();
    /** Routes remembered now (for tests). */
    uint64_t GetCachedRoutes() const;

  protected:
    void DoDispose() override;

  private:
    /** The route LookupGlobal gives for `destination` via `oif` (nullptr: none), remembered. */
    Ptr<Ipv4Route> Lookup(Ipv4Address destination, Ptr<NetDevice> oif);
    bool Cacheable();

    Ptr<Ipv4> m_ipv4Cached; //!< the base class keeps its Ipv4 private
    std::unordered_map<uint64_t, Ptr<Ipv4Route>> m_routes;
    int m_cacheable{-1}; //!< -1: not yet known, 0: random ECMP (no cache), 1: cache
};

/**
 * Ipv4GlobalRoutingHelper that installs QkdCachedGlobalRouting (used in a list with static
 * routing, as InternetStackHelper's default does with plain global routing).
 */
class QkdCachedGlobalRoutingHelper : public Ipv4GlobalRoutingHelper
{
  public:
    QkdCachedGlobalRoutingHelper* Copy() const override;
    Ptr<Ipv4RoutingProtocol> Create(Ptr<Node> node) const override;
};

} // namespace ns3

#endif // QKD_CACHED_GLOBAL_ROUTING_H
