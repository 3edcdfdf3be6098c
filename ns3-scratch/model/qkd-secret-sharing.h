/*
 * qkdnet ns-3 module "qkd".
 *
 * Secret sharing and message authentication for multipath key relay.
 *
 * A key relayed through trusted nodes is exposed to every node on its path. Splitting it into
 * n shares sent over node-disjoint paths means a relay sees one share only: with Shamir's (t, n)
 * scheme over GF(2^8) any t shares rebuild the key and t-1 or fewer reveal nothing about it;
 * with t == n the cheaper XOR n-of-n scheme is used (same secrecy, no redundancy). Each share
 * carries a Wegman-Carter tag (polynomial hash modulo the Mersenne prime 2^61-1, masked by a
 * one-time pad), keyed by authentication key the two endpoints already share, so a relay that
 * flips bits of a share is caught at the receiver, which then rebuilds from the shares that
 * verify and names the paths that lied.
 */
#ifndef QKD_SECRET_SHARING_H
#define QKD_SECRET_SHARING_H

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ns3
{

/** Bytes of a secret or a share. */
using QkdBytes = std::vector<uint8_t>;

/** One share: its x-coordinate (1..n) and the share bytes. */
struct QkdShare
{
    uint8_t index{0};
    QkdBytes data;
};

/** Deterministic byte source for keys and polynomial coefficients (seeded from an ns-3 stream). */
class QkdByteSource
{
  public:
    explicit QkdByteSource(uint64_t seed);
    uint64_t Next64();
    QkdBytes Bytes(size_t n);

  private:
    uint64_t m_state[4];
};

/**
 * Split `secret` into n shares, any t of which rebuild it (1 <= t <= n <= 255).
 * t == n uses XOR sharing; t < n Shamir over GF(2^8) with share i evaluated at x = i.
 */
std::vector<QkdShare> QkdSplitSecret(const QkdBytes& secret,
                                     uint32_t t,
                                     uint32_t n,
                                     QkdByteSource& randomness);

/**
 * Rebuild the secret from shares (at least t of them, distinct indices). With t == n all n
 * shares are XORed; with t < n the first t shares are interpolated at x = 0.
 * Returns false if there are too few shares.
 */
bool QkdCombineShares(const std::vector<QkdShare>& shares,
                      uint32_t t,
                      uint32_t n,
                      QkdBytes& secret);

/** Key of a Wegman-Carter tag: hash point r and one-time mask s, both < 2^61 - 1. */
struct QkdMacKey
{
    uint64_t r{0};
    uint64_t s{0};
};

/** Tag of (context, message) under `key`; bits of key used per tag: see QkdMacKeyBits(). */
uint64_t QkdMacTag(const QkdMacKey& key, uint64_t context, const QkdBytes& message);

/** Authentication key bits one tag consumes (the one-time mask; r is reused per session). */
constexpr uint32_t QkdMacKeyBits()
{
    return 61;
}

} // namespace ns3

#endif // QKD_SECRET_SHARING_H
