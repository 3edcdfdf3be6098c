/*
 * qkdnet ns-3 module "qkd".
 *
 * QkdNodeAgent is the one UDP endpoint of a node for everything qkdnet sends over the classical
 * network: post-processing messages, relayed key shares, control-plane messages. It splits a
 * message into datagrams, reassembles them on the other side, and hands whole messages to the
 * handler registered for their kind. Keeping a single socket per node (instead of one per link
 * or per protocol) keeps 1000-node scenarios cheap, and dispatch by header kind keeps the
 * protocols themselves (QkdPostProcessor, QkdKeyManager) free of socket code.
 */
#ifndef QKD_NODE_AGENT_H
#define QKD_NODE_AGENT_H

#include "qkd-header.h"
#include "qkd-secret-sharing.h"

#include "ns3/application.h"
#include "ns3/callback.h"
#include "ns3/ipv4-address.h"
#include "ns3/socket.h"

#include <map>
#include <tuple>

namespace ns3
{

class QkdNodeAgent;

/** A whole message as delivered to a handler. */
struct QkdMessage
{
    QkdHeader header;
    uint32_t payloadBytes{0};
    QkdBytes payload; //!< real bytes (relayed shares); empty for size-only messages
};

/**
 * @ingroup qkd
 * UDP endpoint of one node for all qkdnet traffic.
 */
class QkdNodeAgent : public Application
{
  public:
    typedef Callback<void, Ptr<QkdNodeAgent>, const QkdMessage&> MessageHandler;

    /** UDP port every agent listens on. */
    static constexpr uint16_t PORT = 7000;
    /** Largest UDP payload per datagram (IPv4 limit 65507 minus our header room). */
    static constexpr uint32_t MAX_DATAGRAM_BYTES = 60000;

    static TypeId GetTypeId();
    QkdNodeAgent();

    void SetNodeIndex(uint32_t index);
    uint32_t GetNodeIndex() const;

    /** Handler for post-processing kinds, relayed shares, and control messages. */
    void SetPostProcessingHandler(MessageHandler handler);
    void SetRelayHandler(MessageHandler handler);
    void SetControlHandler(MessageHandler handler);

    /** Send a size-only message of `payloadBytes` (split into datagrams as needed). */
    void SendMessage(QkdHeader header, uint32_t payloadBytes, Ipv4Address to);
    /** Send real bytes in one datagram (relayed shares); payload must fit MAX_DATAGRAM_BYTES. */
    void SendBytes(QkdHeader header, const QkdBytes& payload, Ipv4Address to);

    uint64_t GetBytesSent() const;
    uint64_t GetBytesReceived() const;
    uint64_t GetDatagramsSent() const;
    uint64_t GetDatagramsReceived() const;

  protected:
    void DoDispose() override;

  private:
    void StartApplication() override;
    void StopApplication() override;
    void HandleRead(Ptr<Socket> socket);
    void Dispatch(const QkdMessage& message);
    void EnsureSocket();

    uint32_t m_index;
    Ptr<Socket> m_socket;
    MessageHandler m_ppHandler;
    MessageHandler m_relayHandler;
    MessageHandler m_controlHandler;

    /** Partially received multi-datagram messages: parts seen and bytes so far. */
    using PartialKey = std::tuple<uint8_t, uint32_t, uint64_t, uint32_t, uint32_t>;
    std::map<PartialKey, std::pair<uint16_t, uint32_t>> m_partial;

    uint64_t m_bytesSent;
    uint64_t m_bytesReceived;
    uint64_t m_datagramsSent;
    uint64_t m_datagramsReceived;
};

} // namespace ns3

#endif // QKD_NODE_AGENT_H
