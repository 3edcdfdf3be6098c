/*
 * qkdnet ns-3 module "qkd": Shamir/XOR secret sharing over GF(2^8) and Wegman-Carter tags.
 */
#include "qkd-secret-sharing.h"

#include <array>
#include <stdexcept>

namespace ns3
{

namespace
{

/** GF(2^8) with the AES polynomial x^8 + x^4 + x^3 + x + 1, via log/antilog tables. */
struct Gf256
{
    std::array<uint8_t, 512> exp{};
    std::array<uint8_t, 256> log{};

    Gf256()
    {
        uint16_t x = 1;
        for (int i = 0; i < 255; ++i)
        {
            exp[i] = static_cast<uint8_t>(x);
            log[x] = static_cast<uint8_t>(i);
            x = static_cast<uint16_t>(x ^ (x << 1)); // multiply by generator 3
            if (x & 0x100)
            {
                x ^= 0x11b;
            }
        }
        for (int i = 255; i < 512; ++i)
        {
            exp[i] = exp[i - 255];
        }
    }

    uint8_t Mul(uint8_t a, uint8_t b) const
    {
        if (a == 0 || b == 0)
        {
            return 0;
        }
        return exp[log[a] + log[b]];
    }

    uint8_t Div(uint8_t a, uint8_t b) const
    {
        if (b == 0)
        {
            throw std::domain_error("GF(256) division by zero");
        }
        if (a == 0)
        {
            return 0;
        }
        return exp[log[a] + 255 - log[b]];
    }
};

const Gf256&
Field()
{
    static const Gf256 field;
    return field;
}

constexpr uint64_t MERSENNE61 = (uint64_t{1} << 61) - 1;

uint64_t
MulMod61(uint64_t a, uint64_t b)
{
    const unsigned __int128 product = static_cast<unsigned __int128>(a) * b;
    uint64_t lo = static_cast<uint64_t>(product & MERSENNE61);
    uint64_t hi = static_cast<uint64_t>(product >> 61);
    uint64_t sum = lo + hi;
    if (sum >= MERSENNE61)
    {
        sum -= MERSENNE61;
    }
    return sum;
}

uint64_t
AddMod61(uint64_t a, uint64_t b)
{
    uint64_t sum = a + b;
    if (sum >= MERSENNE61)
    {
        sum -= MERSENNE61;
    }
    return sum;
}

uint64_t
Rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

} // namespace

QkdByteSource::QkdByteSource(uint64_t seed)
{
    // splitmix64 expands one seed into xoshiro256** state.
    for (auto& word : m_state)
    {
        seed += 0x9e3779b97f4a7c15ULL;
        uint64_t z = seed;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        word = z ^ (z >> 31);
    }
}

uint64_t
QkdByteSource::Next64()
{
    const uint64_t result = Rotl(m_state[1] * 5, 7) * 9;
    const uint64_t t = m_state[1] << 17;
    m_state[2] ^= m_state[0];
    m_state[3] ^= m_state[1];
    m_state[1] ^= m_state[2];
    m_state[0] ^= m_state[3];
    m_state[2] ^= t;
    m_state[3] = Rotl(m_state[3], 45);
    return result;
}

QkdBytes
QkdByteSource::Bytes(size_t n)
{
    QkdBytes out(n);
    size_t i = 0;
    while (i < n)
    {
        uint64_t word = Next64();
        for (int b = 0; b < 8 && i < n; ++b, ++i)
        {
            out[i] = static_cast<uint8_t>(word >> (8 * b));
        }
    }
    return out;
}

std::vector<QkdShare>
QkdSplitSecret(const QkdBytes& secret, uint32_t t, uint32_t n, QkdByteSource& randomness)
{
    if (t < 1 || t > n || n > 255)
    {
        throw std::invalid_argument("secret sharing needs 1 <= t <= n <= 255");
    }
    std::vector<QkdShare> shares(n);
    for (uint32_t i = 0; i < n; ++i)
    {
        shares[i].index = static_cast<uint8_t>(i + 1);
        shares[i].data.resize(secret.size());
    }
    if (t == n)
    {
        // XOR n-of-n: n-1 uniformly random pads, the last share is secret XOR all pads.
        QkdBytes last = secret;
        for (uint32_t i = 0; i + 1 < n; ++i)
        {
            shares[i].data = randomness.Bytes(secret.size());
            for (size_t b = 0; b < secret.size(); ++b)
            {
                last[b] ^= shares[i].data[b];
            }
        }
        shares[n - 1].data = last;
        return shares;
    }
    const Gf256& gf = Field();
    QkdBytes coefficients(t - 1);
    for (size_t b = 0; b < secret.size(); ++b)
    {
        coefficients = randomness.Bytes(t - 1);
        for (uint32_t i = 0; i < n; ++i)
        {
            // Horner's rule for s + a1 x + ... + a_{t-1} x^{t-1} at x = i + 1.
            const auto x = static_cast<uint8_t>(i + 1);
            uint8_t y = 0;
            for (uint32_t c = t - 1; c >= 1; --c)
            {
                y = static_cast<uint8_t>(gf.Mul(y, x) ^ coefficients[c - 1]);
            }
            y = static_cast<uint8_t>(gf.Mul(y, x) ^ secret[b]);
            shares[i].data[b] = y;
        }
    }
    return shares;
}

bool
QkdCombineShares(const std::vector<QkdShare>& shares, uint32_t t, uint32_t n, QkdBytes& secret)
{
    if (t < 1 || t > n || shares.size() < t)
    {
        return false;
    }
    const size_t size = shares[0].data.size();
    for (uint32_t i = 0; i < t; ++i)
    {
        if (shares[i].data.size() != size || shares[i].index == 0)
        {
            return false;
        }
        for (uint32_t j = 0; j < i; ++j)
        {
            if (shares[i].index == shares[j].index)
            {
                return false;
            }
        }
    }
    secret.assign(size, 0);
    if (t == n)
    {
        for (uint32_t i = 0; i < n; ++i)
        {
            for (size_t b = 0; b < size; ++b)
            {
                secret[b] ^= shares[i].data[b];
            }
        }
        return true;
    }
    const Gf256& gf = Field();
    // Lagrange basis at x = 0: l_i = prod_{j != i} x_j / (x_j - x_i); subtraction is XOR.
    std::vector<uint8_t> basis(t);
    for (uint32_t i = 0; i < t; ++i)
    {
        uint8_t num = 1;
        uint8_t den = 1;
        for (uint32_t j = 0; j < t; ++j)
        {
            if (j != i)
            {
                num = gf.Mul(num, shares[j].index);
                den = gf.Mul(den, static_cast<uint8_t>(shares[j].index ^ shares[i].index));
            }
        }
        basis[i] = gf.Div(num, den);
    }
    for (size_t b = 0; b < size; ++b)
    {
        uint8_t value = 0;
        for (uint32_t i = 0; i < t; ++i)
        {
            value ^= gf.Mul(basis[i], shares[i].data[b]);
        }
        secret[b] = value;
    }
    return true;
}

uint64_t
QkdMacTag(const QkdMacKey& key, uint64_t context, const QkdBytes& message)
{
    // Polynomial hash: h = sum m_k r^k over 56-bit chunks (each < 2^61 - 1), then + s.
    // The length and context are hashed first so shares of different sizes or ids never collide.
    const uint64_t r = key.r % MERSENNE61;
    uint64_t h = 0;
    auto absorb = [&h, r](uint64_t chunk) { h = AddMod61(MulMod61(h, r), chunk % MERSENNE61); };
    absorb(context & ((uint64_t{1} << 56) - 1));
    absorb(context >> 56);
    absorb(message.size());
    for (size_t i = 0; i < message.size(); i += 7)
    {
        uint64_t chunk = 0;
        for (size_t b = 0; b < 7 && i + b < message.size(); ++b)
        {
            chunk |= static_cast<uint64_t>(message[i + b]) << (8 * b);
        }
        absorb(chunk);
    }
    return AddMod61(h, key.s % MERSENNE61);
}

} // namespace ns3
