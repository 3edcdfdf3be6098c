/*
 * qkdnet ns-3 module "qkd".
 *
 * What a Byzantine (compromised) node does, from its onset time on. Intercept-resend on the
 * node's quantum links is physics and is applied by the bridge to the links' operating points
 * (qchannel computes the raised QBER); everything a node does with packets and reports is here.
 */
#ifndef QKD_BYZANTINE_H
#define QKD_BYZANTINE_H

#include "ns3/nstime.h"

namespace ns3
{

/** Misbehaviour of one node; all probabilities per relayed share or per announcement. */
struct QkdByzantineBehaviour
{
    bool enabled{false};
    double onsetS{0.0};
    double tamperProbability{0.0};      //!< flip bits of a relayed share
    double dropProbability{0.0};        //!< silently drop a relayed share
    double delayS{0.0};                 //!< hold every relayed share this long
    double forgeCopyProbability{0.0};   //!< send a bit-flipped copy ahead of the genuine share
    double reportQberOffset{0.0};       //!< reported QBER = measured + offset (clamped)
    double reportBufferScale{1.0};      //!< reported buffer level = true level x scale
    double falseAnnouncementProbability{0.0}; //!< MDI relay flips a Bell-measurement result

    bool ActiveAt(Time now) const
    {
        return enabled && now.GetSeconds() >= onsetS;
    }
};

} // namespace ns3

#endif // QKD_BYZANTINE_H
