/*
 * qkdnet ns-3 module "qkd".
 *
 * Binomial sampling on ns-3's own random-number streams.
 *
 * Why not ns3::BinomialRandomVariable: it takes 32-bit trial counts and draws one Bernoulli per
 * trial, so a frame of 10^6..10^9 pulses would cost as many uniform draws. A QKD frame needs
 * Binomial(N, p) with huge N and tiny p in O(1). We keep ns-3's MRG32k3a stream (so
 * RngSeedManager seed/run and AssignStreams reproduce runs exactly) and let the C++ standard
 * library's binomial_distribution (an exact sampler) consume it through a URBG adapter.
 */
#ifndef QKD_BINOMIAL_SAMPLER_H
#define QKD_BINOMIAL_SAMPLER_H

#include "ns3/ptr.h"
#include "ns3/random-variable-stream.h"
#include "ns3/rng-stream.h"

#include <cstdint>

namespace ns3
{

/**
 * @ingroup qkd
 * Exact Binomial(n, p) draws from one ns-3 UniformRandomVariable stream.
 */
class QkdBinomialSampler
{
  public:
    QkdBinomialSampler();

    /** Draw Binomial(trials, probability); probability is clamped to [0, 1]. */
    uint64_t Sample(uint64_t trials, double probability);

    /** Pin the underlying ns-3 stream (ns-3's AssignStreams convention). */
    void SetStream(int64_t stream);

    /** The ns-3 random variable this sampler draws from. */
    Ptr<UniformRandomVariable> GetUniform() const;

    /**
     * The stream's position (MRG32k3a state). A link that draws frames ahead of simulated time
     * saves it before each frame so that, when an input changes, it can put back the draws of
     * frames that have not happened yet: the stream then yields exactly the numbers the
     * frame-by-frame path would draw with the new inputs.
     */
    RngStream SaveState() const;
    /** Put the stream back to a position from SaveState (same stream, same run). */
    void RestoreState(const RngStream& state);

  private:
    /** ns-3's uniform variable with its generator's state reachable (protected in ns-3). */
    class RewindableUniform : public UniformRandomVariable
    {
      public:
        RngStream* Stream() const
        {
            return Peek();
        }
    };

    Ptr<RewindableUniform> m_uniform;
};

} // namespace ns3

#endif // QKD_BINOMIAL_SAMPLER_H
