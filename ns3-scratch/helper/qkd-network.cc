/*
 * qkdnet ns-3 module "qkd": building and stepping a QKD network.
 */
#include "qkd-network.h"

#include "ns3/double.h"
#include "ns3/internet-stack-helper.h"
#include "ns3/ipv4-address-helper.h"
#include "ns3/ipv4-global-routing-helper.h"
#include "ns3/ipv4-interface-container.h"
#include "ns3/ipv4.h"
#include "ns3/ipv4-list-routing-helper.h"
#include "ns3/ipv4-static-routing-helper.h"
#include "ns3/nix-vector-helper.h"
#include "ns3/object-factory.h"
#include "ns3/point-to-point-helper.h"
#include "ns3/qkd-cached-global-routing.h"
#include "ns3/queue-size.h"
#include "ns3/rng-seed-manager.h"
#include "ns3/simulator.h"
#include "ns3/string.h"
#include "ns3/traffic-control-helper.h"
#include "ns3/uinteger.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <set>
#include <sstream>
#include <stdexcept>

namespace ns3
{

namespace
{

/** Random streams: each object class gets its own range so adding one never shifts another. */
constexpr int64_t STREAMS_PER_LINK = 8;
constexpr int64_t KEY_MANAGER_STREAM_BASE = int64_t{1} << 32;
constexpr int64_t DEMAND_STREAM_BASE = int64_t{1} << 36;
constexpr int64_t INTERNET_STREAM_BASE = int64_t{1} << 40;

constexpr double NaN = std::numeric_limits<double>::quiet_NaN();

/** Widths of the step arrays, computed once: the *Fields() lists build strings on every call,
 * and sizes are needed per step and (in assertions) per row. */
size_t
LinkInputWidth()
{
    static const size_t width = QkdNetwork::LinkInputFields().size();
    return width;
}

size_t
LinkOutputWidth()
{
    static const size_t width = QkdNetwork::LinkOutputFields().size();
    return width;
}

size_t
DemandOutputWidth()
{
    static const size_t width = QkdNetwork::DemandOutputFields().size();
    return width;
}

size_t
NodeOutputWidth()
{
    static const size_t width = QkdNetwork::NodeOutputFields().size();
    return width;
}

std::string
Describe(const char* what, uint64_t index)
{
    std::ostringstream s;
    s << what << " " << index;
    return s.str();
}

/**
 * Addresses for a classical channel's two devices, without the queue disc ns-3 adds by default.
 *
 * Why: Ipv4AddressHelper::Assign installs fq_codel on every device. The classical channel is
 * modelled as rate + delay + a drop-tail device queue (`queuePackets`); the queue disc only ever
 * holds packets while that device queue is full, which the scenarios never reach, yet it costs
 * every packet a classification, a per-flow CoDel queue and trace calls, and its per-flow objects
 * grow the memory every event touches. Without it packets go straight to the device queue.
 */
Ipv4InterfaceContainer
AssignWithoutQueueDisc(Ipv4AddressHelper& addresses, const NetDeviceContainer& devices)
{
    Ipv4InterfaceContainer interfaces = addresses.Assign(devices);
    TrafficControlHelper().Uninstall(devices);
    return interfaces;
}

} // namespace

QkdNetwork::QkdNetwork()
    : m_ppEnabled(false),
      m_demandIntervalS(0.1),
      m_framePulses(1'000'000),
      m_blockSizeBits(100'000),
      m_abortQber(0.11),
      m_bufferCapacityBits(100'000'000),
      m_bufferMinimumBits(0),
      m_bufferThresholdBits(1'000'000),
      m_bufferInitialBits(0),
      m_built(false),
      m_nextTimerHandle(1),
      m_stopOnControl(false)
{
}

QkdNetwork::~QkdNetwork()
{
    if (m_built)
    {
        Destroy();
    }
}

void
QkdNetwork::RequireBuilt(const char* what) const
{
    if (!m_built)
    {
        throw std::logic_error(std::string("QkdNetwork: ") + what + " before Build()");
    }
}

void
QkdNetwork::RequireNotBuilt(const char* what) const
{
    if (m_built)
    {
        throw std::logic_error(std::string("QkdNetwork: ") + what + " after Build()");
    }
}

void
QkdNetwork::RequireNode(uint32_t index, const char* what) const
{
    if (index >= m_trusted.size())
    {
        std::ostringstream msg;
        msg << "QkdNetwork: " << what << " node " << index << " does not exist ("
            << m_trusted.size() << " nodes)";
        throw std::out_of_range(msg.str());
    }
}

uint32_t
QkdNetwork::AddTrustedNode()
{
    RequireNotBuilt("AddTrustedNode");
    m_trusted.push_back(true);
    m_byzantine.emplace_back();
    return static_cast<uint32_t>(m_trusted.size() - 1);
}

uint32_t
QkdNetwork::AddRelayNode()
{
    RequireNotBuilt("AddRelayNode");
    m_trusted.push_back(false);
    m_byzantine.emplace_back();
    return static_cast<uint32_t>(m_trusted.size() - 1);
}

uint32_t
QkdNetwork::AddLink(uint32_t a, uint32_t b, double lengthKm, int32_t relay)
{
    RequireNotBuilt("AddLink");
    RequireNode(a, "link end");
    RequireNode(b, "link end");
    if (a == b)
    {
        throw std::invalid_argument("QkdNetwork: a link needs two distinct nodes");
    }
    if (!m_trusted[a] || !m_trusted[b])
    {
        throw std::invalid_argument("QkdNetwork: QKD link ends must be trusted nodes");
    }
    if (!(lengthKm >= 0.0) || !std::isfinite(lengthKm))
    {
        std::ostringstream msg;
        msg << "QkdNetwork: link length " << lengthKm << " km must be finite and >= 0";
        throw std::invalid_argument(msg.str());
    }
    for (const LinkSpec& other : m_linkSpecs)
    {
        if ((other.a == a && other.b == b) || (other.a == b && other.b == a))
        {
            throw std::invalid_argument("QkdNetwork: nodes " + std::to_string(a) + " and " +
                                        std::to_string(b) + " already share a link");
        }
    }
    if (relay >= 0)
    {
        RequireNode(static_cast<uint32_t>(relay), "relay");
        if (m_trusted[relay])
        {
            throw std::invalid_argument("QkdNetwork: an MDI relay must be an untrusted relay node");
        }
    }
    LinkSpec spec{a,
                  b,
                  relay,
                  lengthKm,
                  lengthKm / 2.0,
                  lengthKm / 2.0,
                  m_framePulses,
                  m_blockSizeBits,
                  m_abortQber,
                  m_bufferCapacityBits,
                  m_bufferMinimumBits,
                  m_bufferThresholdBits,
                  m_bufferInitialBits,
                  m_classical};
    m_linkSpecs.push_back(spec);
    return static_cast<uint32_t>(m_linkSpecs.size() - 1);
}

void
QkdNetwork::SetArmLengths(uint32_t link, double armAKm, double armBKm)
{
    RequireNotBuilt("SetArmLengths");
    if (link >= m_linkSpecs.size() || m_linkSpecs[link].relay < 0)
    {
        throw std::invalid_argument("QkdNetwork: SetArmLengths needs an existing relay link");
    }
    if (!(armAKm >= 0.0 && armBKm >= 0.0))
    {
        throw std::invalid_argument("QkdNetwork: arm lengths must be >= 0 km");
    }
    m_linkSpecs[link].armAKm = armAKm;
    m_linkSpecs[link].armBKm = armBKm;
    m_linkSpecs[link].lengthKm = armAKm + armBKm;
}

void
QkdNetwork::SetBufferConfig(uint64_t capacityBits,
                            uint64_t minimumBits,
                            uint64_t thresholdBits,
                            uint64_t initialBits)
{
    RequireNotBuilt("SetBufferConfig");
    if (capacityBits == 0 || minimumBits > capacityBits || thresholdBits > capacityBits ||
        minimumBits > thresholdBits)
    {
        throw std::invalid_argument(
            "QkdNetwork: buffer needs 0 <= minimum <= threshold <= capacity, capacity > 0");
    }
    m_bufferCapacityBits = capacityBits;
    m_bufferMinimumBits = minimumBits;
    m_bufferThresholdBits = thresholdBits;
    m_bufferInitialBits = initialBits;
}

void
QkdNetwork::SetLinkConfig(uint64_t framePulses, uint64_t blockSizeBits, double abortQber)
{
    RequireNotBuilt("SetLinkConfig");
    if (framePulses == 0 || blockSizeBits == 0 || !(abortQber >= 0.0 && abortQber <= 0.5))
    {
        throw std::invalid_argument(
            "QkdNetwork: frame pulses and block size must be > 0, abort QBER in [0, 0.5]");
    }
    m_framePulses = framePulses;
    m_blockSizeBits = blockSizeBits;
    m_abortQber = abortQber;
}

void
QkdNetwork::SetClassicalChannel(const std::string& dataRate, uint32_t queuePackets)
{
    RequireNotBuilt("SetClassicalChannel");
    if (queuePackets == 0)
    {
        throw std::invalid_argument("QkdNetwork: classical queue must hold at least 1 packet");
    }
    m_classical.dataRate = dataRate;
    m_classical.queuePackets = queuePackets;
}

void
QkdNetwork::SetRouting(const std::string& kind)
{
    RequireNotBuilt("SetRouting");
    if (kind != "global" && kind != "nix-vector")
    {
        throw std::invalid_argument(
            "QkdNetwork: routing must be \"global\" or \"nix-vector\", not \"" + kind + "\"");
    }
    m_classical.nixVectorRouting = kind == "nix-vector";
}

void
QkdNetwork::SetClassicalMtu(uint32_t mtuBytes)
{
    RequireNotBuilt("SetClassicalMtu");
    if (mtuBytes < 576 || mtuBytes > 65535)
    {
        throw std::invalid_argument("QkdNetwork: MTU must be in 576..65535 bytes");
    }
    m_classical.mtuBytes = mtuBytes;
}

void
QkdNetwork::SetPostProcessing(bool enabled,
                              double errorCorrectionEfficiency,
                              uint32_t errorCorrectionRounds,
                              uint32_t authTagBits,
                              double timeoutS)
{
    RequireNotBuilt("SetPostProcessing");
    if (!(errorCorrectionEfficiency >= 1.0) || errorCorrectionRounds == 0 || !(timeoutS > 0.0))
    {
        throw std::invalid_argument(
            "QkdNetwork: post-processing needs f_EC >= 1, >= 1 EC round and a timeout > 0 s");
    }
    m_ppEnabled = enabled;
    m_ppConfig.errorCorrectionEfficiency = errorCorrectionEfficiency;
    m_ppConfig.errorCorrectionRounds = errorCorrectionRounds;
    m_ppConfig.authTagBits = authTagBits;
    m_ppConfig.timeoutS = timeoutS;
}

uint32_t
QkdNetwork::AddDemand(uint32_t src, uint32_t dst, double rateBps)
{
    RequireNotBuilt("AddDemand");
    RequireNode(src, "demand source");
    RequireNode(dst, "demand destination");
    if (src == dst || !m_trusted[src] || !m_trusted[dst])
    {
        throw std::invalid_argument("QkdNetwork: a demand joins two distinct trusted nodes");
    }
    if (!(rateBps >= 0.0) || !std::isfinite(rateBps))
    {
        throw std::invalid_argument("QkdNetwork: demand rate must be finite and >= 0 bit/s");
    }
    m_demandSpecs.push_back(DemandSpec{src, dst, rateBps});
    return static_cast<uint32_t>(m_demandSpecs.size() - 1);
}

void
QkdNetwork::SetDemandInterval(double intervalS)
{
    RequireNotBuilt("SetDemandInterval");
    if (!(intervalS > 0.0) || !std::isfinite(intervalS))
    {
        throw std::invalid_argument("QkdNetwork: demand interval must be > 0 s");
    }
    m_demandIntervalS = intervalS;
}

void
QkdNetwork::SetByzantine(uint32_t index,
                         double onsetS,
                         double tamperProbability,
                         double dropProbability,
                         double delayS,
                         double reportQberOffset,
                         double reportBufferScale,
                         double falseAnnouncementProbability)
{
    RequireNode(index, "Byzantine");
    for (double p : {tamperProbability, dropProbability, falseAnnouncementProbability})
    {
        if (!(p >= 0.0 && p <= 1.0))
        {
            throw std::invalid_argument("QkdNetwork: Byzantine probabilities must be in [0, 1]");
        }
    }
    if (!(onsetS >= 0.0) || !(delayS >= 0.0) || !(reportBufferScale >= 0.0) ||
        !(std::abs(reportQberOffset) <= 0.5))
    {
        throw std::invalid_argument("QkdNetwork: Byzantine onset/delay >= 0, buffer scale >= 0, "
                                    "|QBER offset| <= 0.5");
    }
    QkdByzantineBehaviour& b = m_byzantine[index];
    b.enabled = true;
    b.onsetS = onsetS;
    b.tamperProbability = tamperProbability;
    b.dropProbability = dropProbability;
    b.delayS = delayS;
    b.reportQberOffset = reportQberOffset;
    b.reportBufferScale = reportBufferScale;
    b.falseAnnouncementProbability = falseAnnouncementProbability;
    if (m_built)
    {
        ApplyByzantine(index);
    }
}

void
QkdNetwork::ApplyByzantine(uint32_t index)
{
    const QkdByzantineBehaviour& b = m_byzantine[index];
    if (m_keyManagers[index])
    {
        m_keyManagers[index]->SetByzantine(b);
    }
    // A dishonest MDI relay starts lying about Bell-measurement results at its onset.
    for (const auto& link : m_links)
    {
        if (link->GetRelay() == m_nodes.Get(index) && b.falseAnnouncementProbability > 0.0)
        {
            const Time at = Seconds(std::max(b.onsetS, Simulator::Now().GetSeconds()));
            m_byzantineEvents.push_back(Simulator::Schedule(at - Simulator::Now(),
                                                            &QkdLink::SetAnnouncementFlipProbability,
                                                            link,
                                                            b.falseAnnouncementProbability));
        }
    }
}

NetDeviceContainer
QkdNetwork::Connect(uint32_t from, uint32_t to, double lengthKm, const QkdClassicalChannelConfig& cfg)
{
    PointToPointHelper p2p;
    p2p.SetDeviceAttribute("DataRate", StringValue(cfg.dataRate));
    p2p.SetDeviceAttribute("Mtu", UintegerValue(cfg.mtuBytes));
    p2p.SetChannelAttribute("Delay", TimeValue(Seconds(lengthKm * cfg.propagationDelayPerKmS)));
    std::ostringstream queue;
    queue << cfg.queuePackets << "p";
    p2p.SetQueue("ns3::DropTailQueue<Packet>", "MaxSize", QueueSizeValue(QueueSize(queue.str())));
    return p2p.Install(m_nodes.Get(from), m_nodes.Get(to));
}

void
QkdNetwork::Build(uint64_t seed)
{
    RequireNotBuilt("Build");
    if (m_trusted.size() < 2 || m_linkSpecs.empty())
    {
        throw std::logic_error("QkdNetwork: need at least two nodes and one link to build");
    }
    // Same seed => same run, bit for bit, even when an earlier scenario ran in this process:
    // automatic stream numbers restart, and every stream we draw from is pinned explicitly.
    RngSeedManager::SetSeed(1);
    RngSeedManager::SetRun(seed);
    RngSeedManager::ResetNextStreamIndex();

    const auto n = static_cast<uint32_t>(m_trusted.size());
    m_nodes.Create(n);
    InternetStackHelper internet;
    Ipv4NixVectorHelper nixRouting;
    // InternetStackHelper's default (static routing first, then global routing) with global
    // routing's lookups cached: the same routes, without scanning every route per packet.
    Ipv4StaticRoutingHelper staticRouting;
    QkdCachedGlobalRoutingHelper globalRouting;
    Ipv4ListRoutingHelper listRouting;
    listRouting.Add(staticRouting, 0);
    listRouting.Add(globalRouting, -10);
    if (m_classical.nixVectorRouting)
    {
        internet.SetRoutingHelper(nixRouting);
    }
    else
    {
        internet.SetRoutingHelper(listRouting);
    }
    internet.Install(m_nodes);
    internet.AssignStreams(m_nodes, INTERNET_STREAM_BASE);

    for (uint32_t i = 0; i < n; ++i)
    {
        Ptr<QkdNodeAgent> agent = CreateObject<QkdNodeAgent>();
        agent->SetNodeIndex(i);
        m_nodes.Get(i)->AddApplication(agent);
        agent->SetStartTime(Seconds(0));
        m_agents.push_back(agent);
        Ptr<QkdKeyManager> km;
        if (m_trusted[i])
        {
            km = CreateObject<QkdKeyManager>();
            km->Setup(i, agent);
            km->AssignStreams(KEY_MANAGER_STREAM_BASE + i);
            agent->SetRelayHandler(MakeCallback(&QkdKeyManager::OnShare, km));
        }
        agent->SetControlHandler(MakeCallback(&QkdNetwork::OnControl, this));
        m_keyManagers.push_back(km);
    }
    m_controlReceived.assign(n, 0);

    BuildLinks();
    if (!m_classical.nixVectorRouting)
    {
        Ipv4GlobalRoutingHelper::PopulateRoutingTables();
    }
    BuildDemands();
    m_built = true;
    for (uint32_t i = 0; i < n; ++i)
    {
        if (m_byzantine[i].enabled)
        {
            ApplyByzantine(i);
        }
    }
}

void
QkdNetwork::BuildLinks()
{
    Ipv4AddressHelper addresses;
    addresses.SetBase("10.0.0.0", "255.255.255.252");
    for (uint32_t i = 0; i < m_linkSpecs.size(); ++i)
    {
        const LinkSpec& spec = m_linkSpecs[i];
        std::vector<Ipv4Address> addrs(2);
        Ipv4Address relayToA;
        Ipv4Address relayToB;
        if (spec.relay < 0)
        {
            Ipv4InterfaceContainer ifs = AssignWithoutQueueDisc(
                addresses,
                Connect(spec.a, spec.b, spec.lengthKm, spec.classical));
            addresses.NewNetwork();
            addrs[0] = ifs.GetAddress(0);
            addrs[1] = ifs.GetAddress(1);
        }
        else
        {
            const auto relay = static_cast<uint32_t>(spec.relay);
            Ipv4InterfaceContainer armA = AssignWithoutQueueDisc(
                addresses,
                Connect(spec.a, relay, spec.armAKm, spec.classical));
            addresses.NewNetwork();
            Ipv4InterfaceContainer armB = AssignWithoutQueueDisc(
                addresses,
                Connect(relay, spec.b, spec.armBKm, spec.classical));
            addresses.NewNetwork();
            addrs[0] = armA.GetAddress(0);
            addrs[1] = armB.GetAddress(1);
        }
        m_linkAddresses.push_back(addrs);

        auto makeBuffer = [&spec]() {
            return CreateObjectWithAttributes<QkdKeyBuffer>("CapacityBits",
                                                            UintegerValue(spec.bufferCapacityBits),
                                                            "MinimumBits",
                                                            UintegerValue(spec.bufferMinimumBits),
                                                            "ThresholdBits",
                                                            UintegerValue(spec.bufferThresholdBits),
                                                            "InitialBits",
                                                            UintegerValue(spec.bufferInitialBits));
        };
        Ptr<QkdLink> link = CreateObjectWithAttributes<QkdLink>("FramePulses",
                                                                UintegerValue(spec.framePulses),
                                                                "BlockSizeBits",
                                                                UintegerValue(spec.blockSizeBits),
                                                                "AbortQber",
                                                                DoubleValue(spec.abortQber));
        link->Setup(i,
                    m_nodes.Get(spec.a),
                    m_nodes.Get(spec.b),
                    makeBuffer(),
                    makeBuffer(),
                    spec.relay >= 0 ? m_nodes.Get(spec.relay) : nullptr);
        link->AssignStreams(static_cast<int64_t>(i) * STREAMS_PER_LINK);

        Ptr<QkdPostProcessor> pp;
        if (m_ppEnabled)
        {
            pp = CreateObject<QkdPostProcessor>();
            pp->Setup(link,
                      m_agents[spec.a],
                      m_agents[spec.b],
                      spec.relay >= 0 ? m_agents[spec.relay] : nullptr,
                      addrs[0],
                      addrs[1],
                      m_ppConfig);
        }
        m_postProcessors.push_back(pp);
        m_keyManagers[spec.a]->AddNeighbor(spec.b, link, addrs[1]);
        m_keyManagers[spec.b]->AddNeighbor(spec.a, link, addrs[0]);
        link->Start(Seconds(0));
        m_links.push_back(link);
    }
    if (m_ppEnabled)
    {
        // Post-processing messages carry their link id; one dispatcher per agent finds the
        // link's post-processor.
        for (auto& agent : m_agents)
        {
            agent->SetPostProcessingHandler(QkdNodeAgent::MessageHandler(
                [this](Ptr<QkdNodeAgent> at, const QkdMessage& message) {
                    const uint32_t link = message.header.channel;
                    if (link < m_postProcessors.size() && m_postProcessors[link])
                    {
                        m_postProcessors[link]->OnMessage(at, message);
                    }
                }));
        }
    }
    m_prevSifted.assign(m_links.size(), 0);
    m_prevErrors.assign(m_links.size(), 0);
    m_stepQber.assign(m_links.size(), NaN);
    m_reportedQber.assign(2 * m_links.size(), NaN);
    m_appliedInputs.assign(m_links.size() * LinkInputWidth(), NaN);
    m_inputsApplied.assign(m_links.size(), 0);
}

void
QkdNetwork::SetRecordDeliveredKeys(bool record)
{
    RequireBuilt("SetRecordDeliveredKeys");
    for (auto& demand : m_demands)
    {
        demand->SetRecordKeys(record);
    }
}

namespace
{
void
AppendLittleEndian(std::vector<uint8_t>& out, uint64_t value, int bytes)
{
    for (int i = 0; i < bytes; ++i)
    {
        out.push_back(static_cast<uint8_t>(value >> (8 * i)));
    }
}
} // namespace

uint64_t
QkdNetwork::CollectDeliveredKeys()
{
    for (uint32_t i = 0; i < m_demands.size(); ++i)
    {
        for (const QkdDeliveredKey& key : m_demands[i]->TakeDeliveredKeys())
        {
            AppendLittleEndian(m_deliveredKeys, i, 4);
            AppendLittleEndian(m_deliveredKeys, key.key.size(), 4);
            AppendLittleEndian(m_deliveredKeys, key.keyId, 8);
            m_deliveredKeys.insert(m_deliveredKeys.end(), key.key.begin(), key.key.end());
        }
    }
    return m_deliveredKeys.size();
}

void
QkdNetwork::CopyDeliveredKeys(uint8_t* out, uint64_t n)
{
    if (n != m_deliveredKeys.size())
    {
        throw std::invalid_argument("CopyDeliveredKeys: size does not match CollectDeliveredKeys");
    }
    std::copy(m_deliveredKeys.begin(), m_deliveredKeys.end(), out);
    m_deliveredKeys.clear();
}

void
QkdNetwork::BuildDemands()
{
    for (uint32_t i = 0; i < m_demandSpecs.size(); ++i)
    {
        const DemandSpec& spec = m_demandSpecs[i];
        Ptr<QkdKeyDemand> demand = CreateObject<QkdKeyDemand>();
        demand->Setup(i,
                      m_keyManagers[spec.src],
                      m_keyManagers[spec.dst],
                      spec.rateBps,
                      Seconds(m_demandIntervalS));
        demand->AssignStreams(DEMAND_STREAM_BASE + i);
        // End-to-end tag key the endpoints pre-share (SetDemandAuthenticationKey).
        demand->AddAuthenticationKey(m_demandAuthKeyBits);
        m_demands.push_back(demand);
    }
    // Shares addressed to a node go to the demand named in their header.
    for (auto& km : m_keyManagers)
    {
        if (!km)
        {
            continue;
        }
        km->SetShareSink(QkdKeyManager::ShareSink(
            [this](const QkdMessage& message) {
                if (message.header.channel < m_demands.size())
                {
                    m_demands[message.header.channel]->OnShareArrived(message);
                }
            }));
        km->SetHopFailureSink(QkdKeyManager::HopFailureSink([this](uint32_t demand, uint8_t share) {
            if (demand < m_demands.size())
            {
                m_demands[demand]->OnHopExhausted(share);
            }
        }));
    }
    for (auto& demand : m_demands)
    {
        demand->Start(Seconds(m_demandIntervalS));
    }
}

std::vector<std::vector<uint32_t>>
QkdNetwork::ParseRoutes(uint32_t demand, const int32_t* flat, uint64_t n) const
{
    const DemandSpec& spec = m_demandSpecs[demand];
    std::vector<std::vector<uint32_t>> routes(1);
    for (uint64_t i = 0; i < n; ++i)
    {
        if (flat[i] < 0)
        {
            routes.emplace_back();
            continue;
        }
        routes.back().push_back(static_cast<uint32_t>(flat[i]));
    }
    routes.erase(std::remove_if(routes.begin(), routes.end(), [](const auto& r) { return r.empty(); }),
                 routes.end());
    if (routes.empty())
    {
        throw std::invalid_argument(Describe("demand", demand) + ": no route given");
    }
    for (size_t r = 0; r < routes.size(); ++r)
    {
        const auto& route = routes[r];
        const std::string where = Describe("demand", demand) + " route " + std::to_string(r);
        if (route.size() < 2 || route.front() != spec.src || route.back() != spec.dst)
        {
            throw std::invalid_argument(where + ": must run from node " +
                                        std::to_string(spec.src) + " to node " +
                                        std::to_string(spec.dst));
        }
        std::set<uint32_t> seen;
        for (size_t h = 0; h < route.size(); ++h)
        {
            if (route[h] >= m_trusted.size() || !m_trusted[route[h]])
            {
                throw std::invalid_argument(where + ": node " + std::to_string(route[h]) +
                                            " is not a trusted node");
            }
            if (!seen.insert(route[h]).second)
            {
                throw std::invalid_argument(where + ": visits node " + std::to_string(route[h]) +
                                            " twice");
            }
            if (h + 1 < route.size() && !m_keyManagers[route[h]]->IsNeighbor(route[h + 1]))
            {
                throw std::invalid_argument(where + ": no QKD link between nodes " +
                                            std::to_string(route[h]) + " and " +
                                            std::to_string(route[h + 1]));
            }
        }
    }
    return routes;
}

void
QkdNetwork::SetDemandRoutes(uint32_t index,
                            const int32_t* flat,
                            uint64_t n,
                            uint32_t threshold,
                            bool authenticate)
{
    RequireBuilt("SetDemandRoutes");
    if (index >= m_demands.size())
    {
        throw std::out_of_range(Describe("QkdNetwork: no demand", index));
    }
    const auto routes = ParseRoutes(index, flat, n);
    if (threshold < 1 || threshold > routes.size())
    {
        throw std::invalid_argument(Describe("demand", index) + ": threshold " +
                                    std::to_string(threshold) + " not in 1.." +
                                    std::to_string(routes.size()));
    }
    m_demands[index]->SetRoutes(routes, threshold, authenticate);
}

void
QkdNetwork::SetDemandAuthenticationKey(uint64_t bits)
{
    RequireNotBuilt("SetDemandAuthenticationKey");
    m_demandAuthKeyBits = bits;
}

void
QkdNetwork::SetByzantineForgeCopy(uint32_t index, double probability)
{
    RequireNode(index, "Byzantine");
    if (!(probability >= 0.0 && probability <= 1.0))
    {
        throw std::invalid_argument("QkdNetwork: Byzantine probabilities must be in [0, 1]");
    }
    if (!m_byzantine[index].enabled)
    {
        throw std::invalid_argument(Describe("QkdNetwork: SetByzantine first for node", index));
    }
    m_byzantine[index].forgeCopyProbability = probability;
    if (m_built)
    {
        ApplyByzantine(index);
    }
}

void
QkdNetwork::SetDemandRate(uint32_t index, double rateBps)
{
    RequireBuilt("SetDemandRate");
    if (index >= m_demands.size())
    {
        throw std::out_of_range(Describe("QkdNetwork: no demand", index));
    }
    m_demands[index]->SetRateBps(rateBps);
}

void
QkdNetwork::SetLinkProtocol(uint32_t link, uint32_t protocol)
{
    RequireBuilt("SetLinkProtocol");
    if (link >= m_links.size())
    {
        throw std::out_of_range(Describe("QkdNetwork: no link", link));
    }
    if (protocol > 1)
    {
        throw std::invalid_argument("QkdNetwork: protocol is 0 (BB84-decoy) or 1 (MDI-QKD)");
    }
    try
    {
        m_links[link]->SetProtocol(static_cast<QkdLink::Protocol>(protocol));
    }
    catch (const std::invalid_argument& e)
    {
        throw std::invalid_argument(Describe("link", link) + ": " + e.what());
    }
}

std::vector<std::string>
QkdNetwork::LinkInputFields()
{
    return {"gain", "qber", "sifting_ratio", "secret_fraction", "pulse_rate_hz"};
}

std::vector<std::string>
QkdNetwork::LinkOutputFields()
{
    return {"frames",
            "pulses",
            "detections",
            "sifted_bits",
            "error_bits",
            "blocks_closed",
            "blocks_aborted",
            "blocks_failed",
            "blocks_distilled",
            "secret_bits",
            "flipped_announcements",
            "buffer_a_bits",
            "buffer_b_bits",
            "buffer_a_state",
            "buffer_b_state",
            "consumed_a_bits",
            "consumed_b_bits",
            "exhausted_a_events",
            "exhausted_b_events",
            "overflow_a_bits",
            "overflow_b_bits",
            "auth_a_bits",
            "auth_b_bits",
            "pp_messages",
            "pp_bytes",
            "pp_timeouts",
            "pp_auth_failures",
            "pp_in_flight",
            "protocol",
            "step_qber",
            "reported_qber_a",
            "reported_qber_b",
            "reported_buffer_a_bits",
            "reported_buffer_b_bits"};
}

std::vector<std::string>
QkdNetwork::DemandOutputFields()
{
    std::vector<std::string> fields = {"requests",
                                       "served",
                                       "accepted",
                                       "corrupted",
                                       "failed",
                                       "requested_bits",
                                       "delivered_bits",
                                       "corrupted_bits",
                                       "shares_sent",
                                       "shares_received",
                                       "shares_rejected",
                                       "shares_missing",
                                       "hop_exhausted",
                                       "auth_key_bits",
                                       "routes",
                                       "threshold",
                                       "auth_exhausted",
                                       "auth_recycled_bits",
                                       "auth_store_bits"};
    for (uint32_t r = 0; r < QKD_MAX_ROUTES; ++r)
    {
        fields.push_back("route" + std::to_string(r) + "_rejected");
    }
    for (uint32_t r = 0; r < QKD_MAX_ROUTES; ++r)
    {
        fields.push_back("route" + std::to_string(r) + "_missing");
    }
    return fields;
}

std::vector<std::string>
QkdNetwork::NodeOutputFields()
{
    return {"trusted",
            "byzantine_active",
            "shares_originated",
            "shares_forwarded",
            "shares_delivered",
            "shares_dropped",
            "shares_tampered",
            "shares_delayed",
            "hop_exhausted",
            "relay_key_bits",
            "bytes_sent",
            "bytes_received",
            "control_received"};
}

uint64_t
QkdNetwork::GetInputSize() const
{
    return m_linkSpecs.size() * LinkInputWidth();
}

uint64_t
QkdNetwork::GetOutputSize() const
{
    return 1 + m_linkSpecs.size() * LinkOutputWidth() + m_demandSpecs.size() * DemandOutputWidth() +
           m_trusted.size() * NodeOutputWidth();
}

void
QkdNetwork::SetLinkInputs(const double* linkInputs, uint64_t nInputs)
{
    if (linkInputs == nullptr || nInputs == 0)
    {
        return;
    }
    RequireBuilt("SetLinkInputs");
    if (nInputs != GetInputSize())
    {
        std::ostringstream msg;
        msg << "QkdNetwork: got " << nInputs << " link inputs, expected " << GetInputSize();
        throw std::invalid_argument(msg.str());
    }
    const size_t width = LinkInputWidth();
    // Only rows that differ from the applied ones are checked and applied: a link whose inputs
    // did not change (a static channel, an unchanged optimum) costs one comparison per step.
    // Every changed row is checked before any is applied, so a bad row leaves every link on its
    // previous inputs.
    m_changedLinks.clear();
    for (size_t i = 0; i < m_links.size(); ++i)
    {
        const double* in = linkInputs + i * width;
        if (m_inputsApplied[i] &&
            std::memcmp(in, m_appliedInputs.data() + i * width, width * sizeof(double)) == 0)
        {
            continue;
        }
        try
        {
            QkdLink::ValidateInputs(in[0], in[1], in[2], in[3], in[4]);
        }
        catch (const std::invalid_argument& e)
        {
            throw std::invalid_argument(Describe("link", i) + ": " + e.what());
        }
        m_changedLinks.push_back(static_cast<uint32_t>(i));
    }
    for (uint32_t i : m_changedLinks)
    {
        const double* in = linkInputs + i * width;
        m_links[i]->SetOperatingPoint(in[0], in[1], in[2], in[3]);
        m_links[i]->SetPulseRateHz(in[4]);
        std::copy(in, in + width, m_appliedInputs.begin() + i * width);
        m_inputsApplied[i] = 1;
    }
}

void
QkdNetwork::UpdateReports()
{
    const Time now = Simulator::Now();
    for (size_t i = 0; i < m_links.size(); ++i)
    {
        const QkdLinkCounters& c = m_links[i]->GetCounters();
        const uint64_t sifted = c.siftedBits - m_prevSifted[i];
        const uint64_t errors = c.errorBits - m_prevErrors[i];
        m_prevSifted[i] = c.siftedBits;
        m_prevErrors[i] = c.errorBits;
        m_stepQber[i] = sifted > 0 ? static_cast<double>(errors) / static_cast<double>(sifted) : NaN;
        const LinkSpec& spec = m_linkSpecs[i];
        const uint32_t ends[2] = {spec.a, spec.b};
        for (int e = 0; e < 2; ++e)
        {
            const QkdByzantineBehaviour& b = m_byzantine[ends[e]];
            double reported = m_stepQber[i];
            if (b.ActiveAt(now) && !std::isnan(reported))
            {
                reported = std::clamp(reported + b.reportQberOffset, 0.0, 0.5);
            }
            m_reportedQber[2 * i + e] = reported;
        }
    }
}

void
QkdNetwork::CollectOutputs(double* outputs, uint64_t nOutputs) const
{
    if (nOutputs != GetOutputSize())
    {
        std::ostringstream msg;
        msg << "QkdNetwork: output array holds " << nOutputs << " values, expected "
            << GetOutputSize();
        throw std::invalid_argument(msg.str());
    }
    const Time now = Simulator::Now();
    outputs[0] = now.GetSeconds();
    double* out = outputs + 1;
    auto put = [&out](double v) { *out++ = v; };
    for (size_t i = 0; i < m_links.size(); ++i)
    {
        const auto& link = m_links[i];
        const QkdLinkCounters& c = link->GetCounters();
        const Ptr<QkdKeyBuffer> a = link->GetBufferA();
        const Ptr<QkdKeyBuffer> b = link->GetBufferB();
        const QkdPostProcessingCounters pp =
            m_postProcessors[i] ? m_postProcessors[i]->GetCounters() : QkdPostProcessingCounters{};
        const LinkSpec& spec = m_linkSpecs[i];
        const QkdByzantineBehaviour& byzA = m_byzantine[spec.a];
        const QkdByzantineBehaviour& byzB = m_byzantine[spec.b];
        const double scaleA = byzA.ActiveAt(now) ? byzA.reportBufferScale : 1.0;
        const double scaleB = byzB.ActiveAt(now) ? byzB.reportBufferScale : 1.0;
        double* start = out;
        put(static_cast<double>(c.framesSent));
        put(static_cast<double>(c.pulsesSent));
        put(static_cast<double>(c.detections));
        put(static_cast<double>(c.siftedBits));
        put(static_cast<double>(c.errorBits));
        put(static_cast<double>(c.blocksClosed));
        put(static_cast<double>(c.blocksAborted));
        put(static_cast<double>(c.blocksFailed));
        put(static_cast<double>(c.blocksDistilled));
        put(static_cast<double>(c.secretBits));
        put(static_cast<double>(c.flippedAnnouncements));
        put(static_cast<double>(a->GetLevelBits()));
        put(static_cast<double>(b->GetLevelBits()));
        put(static_cast<double>(a->GetState()));
        put(static_cast<double>(b->GetState()));
        put(static_cast<double>(a->GetBitsConsumed()));
        put(static_cast<double>(b->GetBitsConsumed()));
        put(static_cast<double>(a->GetExhaustedEvents()));
        put(static_cast<double>(b->GetExhaustedEvents()));
        put(static_cast<double>(a->GetBitsOverflowed()));
        put(static_cast<double>(b->GetBitsOverflowed()));
        put(static_cast<double>(a->GetAuthenticationBitsConsumed()));
        put(static_cast<double>(b->GetAuthenticationBitsConsumed()));
        put(static_cast<double>(pp.messages));
        put(static_cast<double>(pp.payloadBytes));
        put(static_cast<double>(pp.timeouts));
        put(static_cast<double>(pp.authFailures));
        put(static_cast<double>(pp.inFlight));
        put(static_cast<double>(link->GetProtocol()));
        put(m_stepQber[i]);
        put(m_reportedQber[2 * i]);
        put(m_reportedQber[2 * i + 1]);
        put(static_cast<double>(a->GetLevelBits()) * scaleA);
        put(static_cast<double>(b->GetLevelBits()) * scaleB);
        NS_ASSERT(static_cast<size_t>(out - start) == LinkOutputWidth());
    }
    for (const auto& demand : m_demands)
    {
        const QkdKeyDemandCounters& d = demand->GetCounters();
        double* start = out;
        for (uint64_t v : {d.requests,
                           d.served,
                           d.accepted,
                           d.corrupted,
                           d.failed,
                           d.requestedBits,
                           d.deliveredBits,
                           d.corruptedBits,
                           d.sharesSent,
                           d.sharesReceived,
                           d.sharesRejected,
                           d.sharesMissing,
                           d.hopExhausted,
                           d.authKeyBits,
                           static_cast<uint64_t>(demand->GetRouteCount()),
                           static_cast<uint64_t>(demand->GetThreshold()),
                           d.authExhausted,
                           d.authRecycledBits,
                           demand->GetAuthenticationKeyBits()})
        {
            put(static_cast<double>(v));
        }
        for (uint32_t r = 0; r < QKD_MAX_ROUTES; ++r)
        {
            put(static_cast<double>(d.routeRejected[r]));
        }
        for (uint32_t r = 0; r < QKD_MAX_ROUTES; ++r)
        {
            put(static_cast<double>(d.routeMissing[r]));
        }
        NS_ASSERT(static_cast<size_t>(out - start) == DemandOutputWidth());
    }
    for (uint32_t i = 0; i < m_trusted.size(); ++i)
    {
        double* start = out;
        const Ptr<QkdKeyManager>& km = m_keyManagers[i];
        const QkdKeyManagerCounters k = km ? km->GetCounters() : QkdKeyManagerCounters{};
        put(m_trusted[i] ? 1.0 : 0.0);
        put(m_byzantine[i].ActiveAt(now) ? 1.0 : 0.0);
        put(static_cast<double>(k.sharesOriginated));
        put(static_cast<double>(k.sharesForwarded));
        put(static_cast<double>(k.sharesDelivered));
        put(static_cast<double>(k.sharesDropped));
        put(static_cast<double>(k.sharesTampered));
        put(static_cast<double>(k.sharesDelayed));
        put(static_cast<double>(k.hopExhausted));
        put(static_cast<double>(k.relayKeyBits));
        put(static_cast<double>(m_agents[i]->GetBytesSent()));
        put(static_cast<double>(m_agents[i]->GetBytesReceived()));
        put(static_cast<double>(m_controlReceived[i]));
        NS_ASSERT(static_cast<size_t>(out - start) == NodeOutputWidth());
    }
}

void
QkdNetwork::Step(double dtS,
                 const double* linkInputs,
                 uint64_t nInputs,
                 double* outputs,
                 uint64_t nOutputs)
{
    RequireBuilt("Step");
    if (!(dtS > 0.0) || !std::isfinite(dtS))
    {
        throw std::invalid_argument("QkdNetwork: step length must be a finite value > 0 s");
    }
    if (outputs != nullptr && nOutputs != GetOutputSize())
    {
        throw std::invalid_argument("QkdNetwork: output array has the wrong size");
    }
    SetLinkInputs(linkInputs, nInputs);
    // A step runs to its end: control events arriving meanwhile are queued, not stopped at.
    const bool stopOnControl = m_stopOnControl;
    m_stopOnControl = false;
    // Whole nanoseconds: the caller's dt (a difference of two ns counts) comes back exactly.
    RunUntilNs(Simulator::Now().GetNanoSeconds() + std::llround(dtS * 1e9));
    m_stopOnControl = stopOnControl;
    UpdateReports();
    if (outputs != nullptr)
    {
        CollectOutputs(outputs, nOutputs);
    }
}

Ipv4Address
QkdNetwork::PrimaryAddress(uint32_t node) const
{
    Ptr<Ipv4> ipv4 = m_nodes.Get(node)->GetObject<Ipv4>();
    if (ipv4->GetNInterfaces() < 2)
    {
        throw std::invalid_argument(Describe("QkdNetwork: node", node) + " has no link");
    }
    return ipv4->GetAddress(1, 0).GetLocal();
}

void
QkdNetwork::SendControl(uint32_t src, uint32_t dst, uint32_t bytes, uint64_t tag)
{
    RequireBuilt("SendControl");
    RequireNode(src, "control source");
    RequireNode(dst, "control destination");
    if (src == dst)
    {
        // A node's message to itself never touches the network.
        Simulator::ScheduleWithContext(m_nodes.Get(dst)->GetId(),
                                       Seconds(0),
                                       &QkdNetwork::RecordControlEvent,
                                       this,
                                       0.0,
                                       tag,
                                       dst);
        return;
    }
    QkdHeader header;
    header.kind = QkdHeader::CONTROL;
    header.id = tag;
    header.source = src;
    header.destination = dst;
    // Sent from an event, never directly: before the first Run() the nodes' devices and queue
    // discs are not initialised yet (ns-3 initialises them in events at t = 0).
    Simulator::ScheduleWithContext(m_nodes.Get(src)->GetId(),
                                   Seconds(0),
                                   &QkdNodeAgent::SendMessage,
                                   m_agents[src],
                                   header,
                                   bytes,
                                   PrimaryAddress(dst));
}

void
QkdNetwork::OnControl(Ptr<QkdNodeAgent> agent, const QkdMessage& message)
{
    RecordControlEvent(0.0, message.header.id, agent->GetNodeIndex());
}

void
QkdNetwork::RecordControlEvent(double kind, uint64_t id, uint32_t node)
{
    if (kind == 0.0)
    {
        m_controlReceived[node]++;
    }
    m_controlEvents.insert(m_controlEvents.end(),
                           {kind,
                            static_cast<double>(id),
                            static_cast<double>(node),
                            Simulator::Now().GetSeconds()});
    if (m_stopOnControl)
    {
        Simulator::Stop();
    }
}

uint64_t
QkdNetwork::ScheduleControlTimer(uint32_t node, double delayS)
{
    RequireBuilt("ScheduleControlTimer");
    RequireNode(node, "timer");
    if (!(delayS >= 0.0) || !std::isfinite(delayS))
    {
        throw std::invalid_argument("QkdNetwork: timer delay must be finite and >= 0 s");
    }
    const uint64_t handle = m_nextTimerHandle++;
    m_controlTimers[handle] =
        Simulator::Schedule(Seconds(delayS), &QkdNetwork::FireControlTimer, this, handle, node);
    return handle;
}

void
QkdNetwork::FireControlTimer(uint64_t handle, uint32_t node)
{
    m_controlTimers.erase(handle);
    RecordControlEvent(1.0, handle, node);
}

void
QkdNetwork::CancelControlTimer(uint64_t handle)
{
    auto it = m_controlTimers.find(handle);
    if (it != m_controlTimers.end())
    {
        it->second.Cancel();
        m_controlTimers.erase(it);
    }
}

void
QkdNetwork::SetStopOnControlEvents(bool stop)
{
    m_stopOnControl = stop;
}

double
QkdNetwork::RunUntil(double tS)
{
    RequireBuilt("RunUntil");
    if (!std::isfinite(tS))
    {
        throw std::invalid_argument("QkdNetwork: RunUntil needs a finite time");
    }
    return static_cast<double>(RunUntilNs(std::llround(tS * 1e9))) * 1e-9;
}

int64_t
QkdNetwork::RunUntilNs(int64_t tNs)
{
    RequireBuilt("RunUntilNs");
    const Time target = NanoSeconds(tNs);
    if (target > Simulator::Now())
    {
        // Links draw aggregated frames ahead up to here (inputs may change at the step's end).
        QkdLink::SetDrawHorizon(target);
        EventId stop = Simulator::Schedule(target - Simulator::Now(), &Simulator::Stop);
        Simulator::Run();
        stop.Cancel();
    }
    return Simulator::Now().GetNanoSeconds();
}

uint64_t
QkdNetwork::DrainControl(double* out, uint64_t capacity)
{
    const uint64_t available = m_controlEvents.size() / 4;
    const uint64_t count = std::min(available, capacity);
    std::copy(m_controlEvents.begin(), m_controlEvents.begin() + 4 * count, out);
    m_controlEvents.erase(m_controlEvents.begin(), m_controlEvents.begin() + 4 * count);
    return count;
}

uint64_t
QkdNetwork::GetPendingControlEvents() const
{
    return m_controlEvents.size() / 4;
}

uint32_t
QkdNetwork::GetNNodes() const
{
    return static_cast<uint32_t>(m_trusted.size());
}

uint32_t
QkdNetwork::GetNLinks() const
{
    return static_cast<uint32_t>(m_linkSpecs.size());
}

uint32_t
QkdNetwork::GetNDemands() const
{
    return static_cast<uint32_t>(m_demandSpecs.size());
}

double
QkdNetwork::GetNowSeconds() const
{
    return Simulator::Now().GetSeconds();
}

int64_t
QkdNetwork::GetNowNs() const
{
    return Simulator::Now().GetNanoSeconds();
}

bool
QkdNetwork::IsTrusted(uint32_t index) const
{
    RequireNode(index, "IsTrusted");
    return m_trusted[index];
}

Ptr<Node>
QkdNetwork::GetNode(uint32_t index) const
{
    RequireNode(index, "GetNode");
    return m_nodes.Get(index);
}

Ptr<QkdLink>
QkdNetwork::GetLink(uint32_t index) const
{
    if (index >= m_links.size())
    {
        throw std::out_of_range(Describe("QkdNetwork: no link", index));
    }
    return m_links[index];
}

Ptr<QkdKeyDemand>
QkdNetwork::GetDemand(uint32_t index) const
{
    if (index >= m_demands.size())
    {
        throw std::out_of_range(Describe("QkdNetwork: no demand", index));
    }
    return m_demands[index];
}

Ptr<QkdKeyManager>
QkdNetwork::GetKeyManager(uint32_t index) const
{
    RequireNode(index, "GetKeyManager");
    return m_keyManagers[index];
}

Ipv4Address
QkdNetwork::GetLinkAddress(uint32_t link, uint32_t node) const
{
    if (link >= m_linkAddresses.size())
    {
        throw std::out_of_range(Describe("QkdNetwork: no link", link));
    }
    const LinkSpec& spec = m_linkSpecs[link];
    if (node == spec.a)
    {
        return m_linkAddresses[link][0];
    }
    if (node == spec.b)
    {
        return m_linkAddresses[link][1];
    }
    throw std::invalid_argument("QkdNetwork: node is not an end of that link");
}

void
QkdNetwork::Destroy()
{
    for (auto& event : m_byzantineEvents)
    {
        event.Cancel();
    }
    for (auto& [handle, event] : m_controlTimers)
    {
        event.Cancel();
    }
    m_controlTimers.clear();
    m_controlEvents.clear();
    for (auto& link : m_links)
    {
        link->Stop();
    }
    for (auto& demand : m_demands)
    {
        demand->Stop();
    }
    for (auto& pp : m_postProcessors)
    {
        if (pp)
        {
            pp->Dispose();
        }
    }
    for (auto& demand : m_demands)
    {
        demand->Dispose();
    }
    for (auto& km : m_keyManagers)
    {
        if (km)
        {
            km->Dispose();
        }
    }
    m_byzantineEvents.clear();
    m_links.clear();
    m_postProcessors.clear();
    m_demands.clear();
    m_keyManagers.clear();
    m_agents.clear();
    m_nodes = NodeContainer();
    Simulator::Destroy();
    m_built = false;
}

} // namespace ns3
