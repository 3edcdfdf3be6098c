/*
 * qkdnet ns-3 module "qkd".
 *
 * The one header every qkdnet packet starts with: post-processing messages between the ends of
 * a link, relayed key shares between key managers, and control-plane (consensus) messages.
 * A single fixed layout (plus the share's source route) keeps dispatch in QkdNodeAgent trivial;
 * fields a kind does not use are zero. Payload bytes after the header are the message body:
 * virtual zero bytes for post-processing traffic (only its size matters), real share bytes for
 * relayed key (so tampering and its detection are real).
 */
#ifndef QKD_HEADER_H
#define QKD_HEADER_H

#include "ns3/header.h"

#include <cstdint>
#include <vector>

namespace ns3
{

/**
 * @ingroup qkd
 * qkdnet packet header.
 */
class QkdHeader : public Header
{
  public:
    enum Kind : uint8_t
    {
        PP_ANNOUNCE = 1,    //!< MDI relay -> ends: which pulse pairs gave a Bell-state result
        PP_SIFT = 2,        //!< Bob -> Alice: detected time slots and bases
        PP_SIFT_REPLY = 3,  //!< Alice -> Bob: which bases matched
        PP_EC = 4,          //!< Bob -> Alice: error-correction round (parities asked)
        PP_EC_REPLY = 5,    //!< Alice -> Bob: error-correction round (parities given)
        PP_VERIFY = 6,      //!< Bob -> Alice: verification hash
        PP_PA = 7,          //!< Alice -> Bob: privacy-amplification seed; block done
        PP_ABORT = 8,       //!< Bob -> Alice: QBER above threshold, block discarded
        RELAY_SHARE = 16,   //!< a share of a relayed key, hop by hop
        CONTROL = 32,       //!< a control-plane message (e.g. consensus) between key managers
    };

    static TypeId GetTypeId();
    TypeId GetInstanceTypeId() const override;
    uint32_t GetSerializedSize() const override;
    void Serialize(Buffer::Iterator start) const override;
    uint32_t Deserialize(Buffer::Iterator start) override;
    void Print(std::ostream& os) const override;

    Kind kind{PP_SIFT};
    uint32_t channel{0};   //!< link id (PP), demand id (relay), 0 (control)
    uint64_t id{0};        //!< block id (PP), key id (relay), message tag (control)
    uint16_t part{0};      //!< this datagram's index within its message
    uint16_t parts{1};     //!< datagrams in the message
    uint32_t round{0};     //!< EC round (PP); hop index (relay)
    uint64_t tag{0};       //!< authentication tag of a relayed share
    uint32_t source{0};    //!< originating node index
    uint32_t destination{0}; //!< final node index
    uint8_t shareIndex{0}; //!< x-coordinate of a share (1..n)
    uint8_t threshold{0};  //!< t of the (t, n) sharing
    uint8_t shares{0};     //!< n of the (t, n) sharing
    std::vector<uint32_t> route; //!< source route of a relayed share (node indices)
};

} // namespace ns3

#endif // QKD_HEADER_H
