/*
 * qkdnet ns-3 module "qkd": two trusted nodes and one QKD link, without Python.
 *
 * The operating point (gain, QBER, secret fraction) is normally computed by qchannel and pushed
 * in by the bridge; here it comes from the command line, so the example shows the C++ API alone:
 *
 *   qkd-two-node-example --gain=2e-3 --qber=0.02 --secretFraction=0.4 --seconds=2
 */
#include "ns3/command-line.h"
#include "ns3/qkd-module.h"

#include <iostream>
#include <vector>

using namespace ns3;

int
main(int argc, char* argv[])
{
    double gain = 2e-3;
    double qber = 0.02;
    double secretFraction = 0.4;
    double pulseRateHz = 1e9;
    double lengthKm = 25.0;
    double seconds = 1.0;
    double stepS = 0.1;
    uint64_t seed = 1;

    CommandLine cmd(__FILE__);
    cmd.AddValue("gain", "detection probability per pulse", gain);
    cmd.AddValue("qber", "quantum bit error rate of sifted bits", qber);
    cmd.AddValue("secretFraction", "secret bits per sifted bit", secretFraction);
    cmd.AddValue("pulseRateHz", "source repetition rate", pulseRateHz);
    cmd.AddValue("lengthKm", "fibre length", lengthKm);
    cmd.AddValue("seconds", "simulated time", seconds);
    cmd.AddValue("stepS", "report interval", stepS);
    cmd.AddValue("seed", "ns-3 run number", seed);
    cmd.Parse(argc, argv);

    QkdNetwork net;
    const uint32_t a = net.AddTrustedNode();
    const uint32_t b = net.AddTrustedNode();
    net.AddLink(a, b, lengthKm);
    net.Build(seed);

    std::vector<double> in = {gain, qber, 0.5, secretFraction, pulseRateHz};
    std::vector<double> out(net.GetOutputSize());
    const auto names = QkdNetwork::LinkOutputFields();
    auto field = [&names, &out](const std::string& name) {
        for (size_t i = 0; i < names.size(); ++i)
        {
            if (names[i] == name)
            {
                return out[1 + i];
            }
        }
        return -1.0;
    };
    std::cout << "time_s,key_bits,sifted_bits,error_bits,qber\n";
    const int steps = static_cast<int>(seconds / stepS + 0.5);
    for (int i = 0; i < steps; ++i)
    {
        net.Step(stepS, in.data(), in.size(), out.data(), out.size());
        const double sifted = field("sifted_bits");
        const double errors = field("error_bits");
        std::cout << out[0] << "," << field("buffer_a_bits") << "," << sifted << "," << errors
                  << "," << (sifted > 0 ? errors / sifted : 0.0) << "\n";
    }
    net.Destroy();
    return 0;
}
