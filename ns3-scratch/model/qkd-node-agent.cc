/*
 * qkdnet ns-3 module "qkd": per-node UDP endpoint and message dispatch.
 */
#include "qkd-node-agent.h"

#include "ns3/inet-socket-address.h"
#include "ns3/log.h"
#include "ns3/packet.h"
#include "ns3/udp-socket-factory.h"

#include <algorithm>

namespace ns3
{

NS_LOG_COMPONENT_DEFINE("QkdNodeAgent");
NS_OBJECT_ENSURE_REGISTERED(QkdNodeAgent);

TypeId
QkdNodeAgent::GetTypeId()
{
    static TypeId tid = TypeId("ns3::QkdNodeAgent")
                            .SetParent<Application>()
                            .SetGroupName("Qkd")
                            .AddConstructor<QkdNodeAgent>();
    return tid;
}

QkdNodeAgent::QkdNodeAgent()
    : m_index(0),
      m_bytesSent(0),
      m_bytesReceived(0),
      m_datagramsSent(0),
      m_datagramsReceived(0)
{
}

void
QkdNodeAgent::SetNodeIndex(uint32_t index)
{
    m_index = index;
}

uint32_t
QkdNodeAgent::GetNodeIndex() const
{
    return m_index;
}

void
QkdNodeAgent::SetPostProcessingHandler(MessageHandler handler)
{
    m_ppHandler = handler;
}

void
QkdNodeAgent::SetRelayHandler(MessageHandler handler)
{
    m_relayHandler = handler;
}

void
QkdNodeAgent::SetControlHandler(MessageHandler handler)
{
    m_controlHandler = handler;
}

void
QkdNodeAgent::EnsureSocket()
{
    if (m_socket)
    {
        return;
    }
    m_socket = Socket::CreateSocket(GetNode(), UdpSocketFactory::GetTypeId());
    m_socket->Bind(InetSocketAddress(Ipv4Address::GetAny(), PORT));
    m_socket->SetRecvCallback(MakeCallback(&QkdNodeAgent::HandleRead, this));
}

void
QkdNodeAgent::StartApplication()
{
    EnsureSocket();
}

void
QkdNodeAgent::StopApplication()
{
    if (m_socket)
    {
        m_socket->SetRecvCallback(MakeNullCallback<void, Ptr<Socket>>());
        m_socket->Close();
        m_socket = nullptr;
    }
}

void
QkdNodeAgent::DoDispose()
{
    m_ppHandler = MessageHandler();
    m_relayHandler = MessageHandler();
    m_controlHandler = MessageHandler();
    m_socket = nullptr;
    Application::DoDispose();
}

void
QkdNodeAgent::SendMessage(QkdHeader header, uint32_t payloadBytes, Ipv4Address to)
{
    EnsureSocket();
    const uint32_t parts =
        std::max<uint32_t>(1, (payloadBytes + MAX_DATAGRAM_BYTES - 1) / MAX_DATAGRAM_BYTES);
    header.parts = static_cast<uint16_t>(std::min<uint32_t>(parts, 0xFFFF));
    uint32_t left = payloadBytes;
    for (uint16_t part = 0; part < header.parts; ++part)
    {
        const uint32_t bytes = std::min(left, MAX_DATAGRAM_BYTES);
        left -= bytes;
        header.part = part;
        Ptr<Packet> packet = Create<Packet>(bytes);
        packet->AddHeader(header);
        m_bytesSent += packet->GetSize();
        m_datagramsSent++;
        m_socket->SendTo(packet, 0, InetSocketAddress(to, PORT));
    }
}

void
QkdNodeAgent::SendBytes(QkdHeader header, const QkdBytes& payload, Ipv4Address to)
{
    EnsureSocket();
    NS_ABORT_MSG_IF(payload.size() > MAX_DATAGRAM_BYTES, "share larger than one datagram");
    header.part = 0;
    header.parts = 1;
    Ptr<Packet> packet = Create<Packet>(payload.data(), static_cast<uint32_t>(payload.size()));
    packet->AddHeader(header);
    m_bytesSent += packet->GetSize();
    m_datagramsSent++;
    m_socket->SendTo(packet, 0, InetSocketAddress(to, PORT));
}

void
QkdNodeAgent::HandleRead(Ptr<Socket> socket)
{
    Ptr<Packet> packet;
    Address from;
    while ((packet = socket->RecvFrom(from)))
    {
        m_bytesReceived += packet->GetSize();
        m_datagramsReceived++;
        QkdHeader header;
        packet->RemoveHeader(header);
        const uint32_t bytes = packet->GetSize();
        if (header.parts <= 1)
        {
            QkdMessage message{header, bytes, {}};
            if (header.kind == QkdHeader::RELAY_SHARE)
            {
                message.payload.resize(bytes);
                packet->CopyData(message.payload.data(), bytes);
            }
            Dispatch(message);
            continue;
        }
        const PartialKey key{header.kind, header.channel, header.id, header.round, header.source};
        auto& [seen, total] = m_partial[key];
        seen++;
        total += bytes;
        if (seen >= header.parts)
        {
            QkdMessage message{header, total, {}};
            m_partial.erase(key);
            Dispatch(message);
        }
    }
}

void
QkdNodeAgent::Dispatch(const QkdMessage& message)
{
    const auto kind = message.header.kind;
    MessageHandler* handler = nullptr;
    if (kind == QkdHeader::RELAY_SHARE)
    {
        handler = &m_relayHandler;
    }
    else if (kind == QkdHeader::CONTROL)
    {
        handler = &m_controlHandler;
    }
    else
    {
        handler = &m_ppHandler;
    }
    if (!handler->IsNull())
    {
        (*handler)(this, message);
    }
    else
    {
        NS_LOG_WARN("node " << m_index << ": no handler for kind " << static_cast<int>(kind));
    }
}

uint64_t
QkdNodeAgent::GetBytesSent() const
{
    return m_bytesSent;
}

uint64_t
QkdNodeAgent::GetBytesReceived() const
{
    return m_bytesReceived;
}

uint64_t
QkdNodeAgent::GetDatagramsSent() const
{
    return m_datagramsSent;
}

uint64_t
QkdNodeAgent::GetDatagramsReceived() const
{
    return m_datagramsReceived;
}

} // namespace ns3
