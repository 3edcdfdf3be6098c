/*
 * qkdnet ns-3 module "qkd": tests of (t, n) secret sharing and share authentication.
 */
#include "ns3/qkd-secret-sharing.h"
#include "ns3/test.h"

using namespace ns3;

namespace
{

/** Any t of n Shamir shares rebuild the secret; XOR needs all n. */
class QkdSharingRoundTripTestCase : public TestCase
{
  public:
    QkdSharingRoundTripTestCase()
        : TestCase("any t of n shares rebuild the secret")
    {
    }

  private:
    void DoRun() override
    {
        QkdByteSource rng(42);
        const QkdBytes secret = rng.Bytes(64);
        for (uint32_t n = 1; n <= 5; ++n)
        {
            for (uint32_t t = 1; t <= n; ++t)
            {
                const auto shares = QkdSplitSecret(secret, t, n, rng);
                NS_TEST_ASSERT_MSG_EQ(shares.size(), n, "n shares");
                // every window of t consecutive shares (cyclically) rebuilds the secret
                for (uint32_t start = 0; start < n; ++start)
                {
                    std::vector<QkdShare> subset;
                    for (uint32_t k = 0; k < t; ++k)
                    {
                        subset.push_back(shares[(start + k) % n]);
                    }
                    QkdBytes rebuilt;
                    const bool ok = QkdCombineShares(subset, t, n, rebuilt);
                    NS_TEST_ASSERT_MSG_EQ(ok, true, "t shares suffice");
                    NS_TEST_ASSERT_MSG_EQ((rebuilt == secret), true, "secret rebuilt exactly");
                    if (t == n)
                    {
                        break; // XOR: the only subset is all shares
                    }
                }
                if (t > 1)
                {
                    std::vector<QkdShare> tooFew(shares.begin(), shares.begin() + (t - 1));
                    QkdBytes rebuilt;
                    NS_TEST_ASSERT_MSG_EQ(QkdCombineShares(tooFew, t, n, rebuilt), false,
                                          "t-1 shares are not enough");
                }
            }
        }
    }
};

/** A tag fails after any bit flip, and depends on the context (key id). */
class QkdMacTestCase : public TestCase
{
  public:
    QkdMacTestCase()
        : TestCase("Wegman-Carter tag catches flipped bits and wrong contexts")
    {
    }

  private:
    void DoRun() override
    {
        QkdByteSource rng(7);
        const QkdBytes message = rng.Bytes(100);
        QkdMacKey key{rng.Next64(), rng.Next64()};
        const uint64_t tag = QkdMacTag(key, 5, message);
        NS_TEST_ASSERT_MSG_EQ(QkdMacTag(key, 5, message), tag, "deterministic");
        NS_TEST_ASSERT_MSG_NE(QkdMacTag(key, 6, message), tag, "context is authenticated");
        for (size_t byte = 0; byte < message.size(); byte += 13)
        {
            for (int bit = 0; bit < 8; bit += 3)
            {
                QkdBytes flipped = message;
                flipped[byte] ^= static_cast<uint8_t>(1u << bit);
                NS_TEST_ASSERT_MSG_NE(QkdMacTag(key, 5, flipped), tag, "flip detected");
            }
        }
        QkdBytes longer = message;
        longer.push_back(0);
        NS_TEST_ASSERT_MSG_NE(QkdMacTag(key, 5, longer), tag, "length is authenticated");
    }
};

class QkdSecretSharingTestSuite : public TestSuite
{
  public:
    QkdSecretSharingTestSuite()
        : TestSuite("qkd-secret-sharing", Type::UNIT)
    {
        AddTestCase(new QkdSharingRoundTripTestCase(), Duration::QUICK);
        AddTestCase(new QkdMacTestCase(), Duration::QUICK);
    }
};

} // namespace

static QkdSecretSharingTestSuite g_qkdSecretSharingTestSuite;
