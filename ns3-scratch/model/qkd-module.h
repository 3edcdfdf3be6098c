/*
 * qkdnet ns-3 module "qkd": umbrella header (ns-3 convention: ns3/<module>-module.h).
 */
#ifndef QKD_MODULE_H
#define QKD_MODULE_H

#include "ns3/qkd-binomial-sampler.h"
#include "ns3/qkd-key-buffer.h"
#include "ns3/qkd-link.h"
#include "ns3/qkd-byzantine.h"
#include "ns3/qkd-cached-global-routing.h"
#include "ns3/qkd-header.h"
#include "ns3/qkd-key-demand.h"
#include "ns3/qkd-key-manager.h"
#include "ns3/qkd-network.h"
#include "ns3/qkd-node-agent.h"
#include "ns3/qkd-post-processor.h"
#include "ns3/qkd-secret-sharing.h"

#endif // QKD_MODULE_H
