/*
 * qkdnet ns-3 module "qkd": binomial sampling on ns-3 random streams.
 */
#include "qkd-binomial-sampler.h"

#include <algorithm>
#include <new>
#include <random>

namespace ns3
{

namespace
{

/**
 * Uniform random bit generator (C++ named requirement) over an ns-3 stream, so standard
 * distributions consume ns-3's seeded MRG32k3a instead of a private engine.
 */
class NsUniformBitGenerator
{
  public:
    using result_type = uint32_t;

    explicit NsUniformBitGenerator(UniformRandomVariable* uniform)
        : m_uniform(uniform)
    {
    }

    static constexpr result_type min()
    {
        return 0;
    }

    static constexpr result_type max()
    {
        return 0xFFFFFFFFu;
    }

    result_type operator()()
    {
        // GetValue(0, 2^32) lies in [0, 2^32): the cast never overflows.
        return static_cast<result_type>(m_uniform->GetValue(0.0, 4294967296.0));
    }

  private:
    UniformRandomVariable* m_uniform;
};

} // namespace

QkdBinomialSampler::QkdBinomialSampler()
    : m_uniform(CreateObject<RewindableUniform>())
{
}

uint64_t
QkdBinomialSampler::Sample(uint64_t trials, double probability)
{
    if (trials == 0 || probability <= 0.0)
    {
        return 0;
    }
    if (probability >= 1.0)
    {
        return trials;
    }
    NsUniformBitGenerator gen(PeekPointer(m_uniform));
    // A fresh distribution per draw: no cached state carries over between calls, so a draw
    // depends only on (trials, probability, stream position).
    std::binomial_distribution<uint64_t> dist(trials, probability);
    return std::min<uint64_t>(dist(gen), trials);
}

void
QkdBinomialSampler::SetStream(int64_t stream)
{
    m_uniform->SetStream(stream);
}

Ptr<UniformRandomVariable>
QkdBinomialSampler::GetUniform() const
{
    return m_uniform;
}

RngStream
QkdBinomialSampler::SaveState() const
{
    return *m_uniform->Stream();
}

void
QkdBinomialSampler::RestoreState(const RngStream& state)
{
    // RngStream has a copy constructor but no assignment: rebuild the object in place.
    RngStream* stream = m_uniform->Stream();
    stream->~RngStream();
    new (stream) RngStream(state);
}

} // namespace ns3
