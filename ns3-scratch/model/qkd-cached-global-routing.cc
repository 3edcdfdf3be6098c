/*
 * qkdnet ns-3 module "qkd": ns-3's global routing with a per-destination route cache.
 */
#include "qkd-cached-global-routing.h"

#include "ns3/boolean.h"
#include "ns3/global-router-interface.h"
#include "ns3/ipv4-route.h"
#include "ns3/node.h"

namespace ns3
{

NS_OBJECT_ENSURE_REGISTERED(QkdCachedGlobalRouting);

TypeId
QkdCachedGlobalRouting::GetTypeId()
{
    static TypeId tid = TypeId("ns3::QkdCachedGlobalRouting")
                            .SetParent<Ipv4GlobalRouting>()
                            .SetGroupName("Qkd")
                            .AddConstructor<QkdCachedGlobalRouting>();
    return tid;
}

void
QkdCachedGlobalRouting::SetIpv4(Ptr<Ipv4> ipv4)
{
    m_ipv4Cached = ipv4;
    Ipv4GlobalRouting::SetIpv4(ipv4);
}

bool
QkdCachedGlobalRouting::Cacheable()
{
    if (m_cacheable < 0)
    {
        BooleanValue ecmp;
        GetAttribute("RandomEcmpRouting", ecmp);
        BooleanValue respond;
        GetAttribute("RespondToInterfaceEvents", respond);
        m_cacheable = (ecmp.Get() || respond.Get()) ? 0 : 1;
    }
    return m_cacheable == 1;
}

Ptr<Ipv4Route>
QkdCachedGlobalRouting::Lookup(Ipv4Address destination, Ptr<NetDevice> oif)
{
    Ipv4Header header;
    header.SetDestination(destination);
    Socket::SocketErrno error;
    if (!Cacheable())
    {
        return Ipv4GlobalRouting::RouteOutput(nullptr, header, oif, error);
    }
    const uint64_t key =
        (uint64_t{destination.Get()} << 32) | (oif ? uint64_t{oif->GetIfIndex()} + 1 : 0);
    auto it = m_routes.find(key);
    if (it == m_routes.end())
    {
        it = m_routes.emplace(key, Ipv4GlobalRouting::RouteOutput(nullptr, header, oif, error))
                 .first;
    }
    // A copy per use, as LookupGlobal makes one: whoever gets a route may change it.
    return it->second ? Create<Ipv4Route>(*it->second) : nullptr;
}

Ptr<Ipv4Route>
QkdCachedGlobalRouting::RouteOutput(Ptr<Packet> p,
                                    const Ipv4Header& header,
                                    Ptr<NetDevice> oif,
                                    Socket::SocketErrno& sockerr)
{
    if (header.GetDestination().IsMulticast())
    {
        return Ipv4GlobalRouting::RouteOutput(p, header, oif, sockerr);
    }
    Ptr<Ipv4Route> route = Lookup(header.GetDestination(), oif);
    sockerr = route ? Socket::ERROR_NOTERROR : Socket::ERROR_NOROUTETOHOST;
    return route;
}

bool
QkdCachedGlobalRouting::RouteInput(Ptr<const Packet> p,
                                   const Ipv4Header& header,
                                   Ptr<const NetDevice> idev,
                                   const UnicastForwardCallback& ucb,
                                   const MulticastForwardCallback& mcb,
                                   const LocalDeliverCallback& lcb,
                                   const ErrorCallback& ecb)
{
    // The same decisions as Ipv4GlobalRouting::RouteInput, with the route from the cache.
    NS_ASSERT(m_ipv4Cached->GetInterfaceForDevice(idev) >= 0);
    const uint32_t iif = m_ipv4Cached->GetInterfaceForDevice(idev);
    if (m_ipv4Cached->IsDestinationAddress(header.GetDestination(), iif))
    {
        if (!lcb.IsNull())
        {
            lcb(p, header, iif);
            return true;
        }
        return false;
    }
    if (!m_ipv4Cached->IsForwarding(iif))
    {
        ecb(p, header, Socket::ERROR_NOROUTETOHOST);
        return true;
    }
    Ptr<Ipv4Route> route = Lookup(header.GetDestination(), nullptr);
    if (route)
    {
        ucb(route, p, header);
        return true;
    }
    return false;
}

void
QkdCachedGlobalRouting::NotifyInterfaceUp(uint32_t interface)
{
    ClearRouteCache();
    Ipv4GlobalRouting::NotifyInterfaceUp(interface);
}

void
QkdCachedGlobalRouting::NotifyInterfaceDown(uint32_t interface)
{
    ClearRouteCache();
    Ipv4GlobalRouting::NotifyInterfaceDown(interface);
}

void
QkdCachedGlobalRouting::NotifyAddAddress(uint32_t interface, Ipv4InterfaceAddress address)
{
    ClearRouteCache();
    Ipv4GlobalRouting::NotifyAddAddress(interface, address);
}

void
QkdCachedGlobalRouting::NotifyRemoveAddress(uint32_t interface, Ipv4InterfaceAddress address)
{
    ClearRouteCache();
    Ipv4GlobalRouting::NotifyRemoveAddress(interface, address);
}

void
QkdCachedGlobalRouting::ClearRouteCache()
{
    m_routes.clear();
}

uint64_t
QkdCachedGlobalRouting::GetCachedRoutes() const
{
    return m_routes.size();
}

void
QkdCachedGlobalRouting::DoDispose()
{
    m_routes.clear();
    m_ipv4Cached = nullptr;
    Ipv4GlobalRouting::DoDispose();
}

QkdCachedGlobalRoutingHelper*
QkdCachedGlobalRoutingHelper::Copy() const
{
    return new QkdCachedGlobalRoutingHelper(*this);
}

Ptr<Ipv4RoutingProtocol>
QkdCachedGlobalRoutingHelper::Create(Ptr<Node> node) const
{
    // What Ipv4GlobalRoutingHelper::Create does, with the caching protocol.
    Ptr<GlobalRouter> globalRouter = CreateObject<GlobalRouter>();
    node->AggregateObject(globalRouter);
    Ptr<QkdCachedGlobalRouting> routing = CreateObject<QkdCachedGlobalRouting>();
    globalRouter->SetRoutingProtocol(routing);
    return routing;
}

} // namespace ns3
