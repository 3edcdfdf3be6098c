/*
 * qkdnet ns-3 module "qkd": packet header.
 */
#include "qkd-header.h"

namespace ns3
{

NS_OBJECT_ENSURE_REGISTERED(QkdHeader);

TypeId
QkdHeader::GetTypeId()
{
    static TypeId tid = TypeId("ns3::QkdHeader")
                            .SetParent<Header>()
                            .SetGroupName("Qkd")
                            .AddConstructor<QkdHeader>();
    return tid;
}

TypeId
QkdHeader::GetInstanceTypeId() const
{
    return GetTypeId();
}

uint32_t
QkdHeader::GetSerializedSize() const
{
    return 1 + 4 + 8 + 2 + 2 + 4 + 8 + 4 + 4 + 1 + 1 + 1 + 1 + 4 * route.size();
}

void
QkdHeader::Serialize(Buffer::Iterator start) const
{
    start.WriteU8(kind);
    start.WriteHtonU32(channel);
    start.WriteHtonU64(id);
    start.WriteHtonU16(part);
    start.WriteHtonU16(parts);
    start.WriteHtonU32(round);
    start.WriteHtonU64(tag);
    start.WriteHtonU32(source);
    start.WriteHtonU32(destination);
    start.WriteU8(shareIndex);
    start.WriteU8(threshold);
    start.WriteU8(shares);
    start.WriteU8(static_cast<uint8_t>(route.size()));
    for (uint32_t node : route)
    {
        start.WriteHtonU32(node);
    }
}

uint32_t
QkdHeader::Deserialize(Buffer::Iterator start)
{
    kind = static_cast<Kind>(start.ReadU8());
    channel = start.ReadNtohU32();
    id = start.ReadNtohU64();
    part = start.ReadNtohU16();
    parts = start.ReadNtohU16();
    round = start.ReadNtohU32();
    tag = start.ReadNtohU64();
    source = start.ReadNtohU32();
    destination = start.ReadNtohU32();
    shareIndex = start.ReadU8();
    threshold = start.ReadU8();
    shares = start.ReadU8();
    const uint8_t hops = start.ReadU8();
    route.resize(hops);
    for (auto& node : route)
    {
        node = start.ReadNtohU32();
    }
    return GetSerializedSize();
}

void
QkdHeader::Print(std::ostream& os) const
{
    os << "kind=" << static_cast<int>(kind) << " channel=" << channel << " id=" << id
       << " part=" << part << "/" << parts << " round=" << round;
    if (kind == RELAY_SHARE)
    {
        os << " share=" << static_cast<int>(shareIndex) << " (" << static_cast<int>(threshold)
           << "," << static_cast<int>(shares) << ") " << source << "->" << destination;
    }
}

} // namespace ns3
