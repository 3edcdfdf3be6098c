/*
 * qkdnet ns-3 module "qkd": tests of QkdKeyBuffer (states, reserve, capacity, exhaustion).
 */
#include "ns3/object-factory.h"
#include "ns3/qkd-key-buffer.h"
#include "ns3/test.h"
#include "ns3/uinteger.h"

using namespace ns3;

namespace
{

Ptr<QkdKeyBuffer>
MakeBuffer(uint64_t capacity, uint64_t minimum, uint64_t threshold, uint64_t initial)
{
    return CreateObjectWithAttributes<QkdKeyBuffer>("CapacityBits",
                                                    UintegerValue(capacity),
                                                    "MinimumBits",
                                                    UintegerValue(minimum),
                                                    "ThresholdBits",
                                                    UintegerValue(threshold),
                                                    "InitialBits",
                                                    UintegerValue(initial));
}

/** READY -> WARNING -> EMPTY -> CHARGING -> READY, the QKDNetSim hysteresis. */
class QkdKeyBufferStateTestCase : public TestCase
{
  public:
    QkdKeyBufferStateTestCase()
        : TestCase("key buffer walks ready, warning, empty, charging with hysteresis")
    {
    }

  private:
    void DoRun() override
    {
        Ptr<QkdKeyBuffer> buf = MakeBuffer(1000, 100, 500, 600);
        NS_TEST_ASSERT_MSG_EQ(buf->GetState(), QkdKeyBuffer::READY, "600 >= threshold 500");
        NS_TEST_ASSERT_MSG_EQ(buf->ConsumeKey(200), true, "400 left, above the 100 reserve");
        NS_TEST_ASSERT_MSG_EQ(buf->GetState(), QkdKeyBuffer::WARNING, "drained below threshold");
        NS_TEST_ASSERT_MSG_EQ(buf->ConsumeKey(300), true, "exactly down to the reserve");
        NS_TEST_ASSERT_MSG_EQ(buf->GetState(), QkdKeyBuffer::EMPTY, "at the reserve");
        buf->AddKey(150);
        NS_TEST_ASSERT_MSG_EQ(buf->GetState(), QkdKeyBuffer::CHARGING, "refilling from empty");
        buf->AddKey(300);
        NS_TEST_ASSERT_MSG_EQ(buf->GetState(), QkdKeyBuffer::READY, "550 >= threshold again");
    }
};

/** Applications never touch the reserve; authentication may; failures are counted. */
class QkdKeyBufferReserveTestCase : public TestCase
{
  public:
    QkdKeyBufferReserveTestCase()
        : TestCase("key buffer keeps its reserve for authentication and counts exhaustion")
    {
    }

  private:
    void DoRun() override
    {
        Ptr<QkdKeyBuffer> buf = MakeBuffer(1000, 100, 500, 150);
        NS_TEST_ASSERT_MSG_EQ(buf->GetAvailableBits(), 50u, "150 minus the 100 reserve");
        NS_TEST_ASSERT_MSG_EQ(buf->ConsumeKey(51), false, "would dig into the reserve");
        NS_TEST_ASSERT_MSG_EQ(buf->GetLevelBits(), 150u, "nothing taken on failure");
        NS_TEST_ASSERT_MSG_EQ(buf->GetExhaustedEvents(), 1u, "one exhausted event");
        NS_TEST_ASSERT_MSG_EQ(buf->ConsumeAuthenticationKey(140), true, "auth may use reserve");
        NS_TEST_ASSERT_MSG_EQ(buf->GetLevelBits(), 10u, "150 - 140");
        NS_TEST_ASSERT_MSG_EQ(buf->ConsumeAuthenticationKey(11), false, "not more than is there");
        NS_TEST_ASSERT_MSG_EQ(buf->GetExhaustedEvents(), 2u, "second exhausted event");
        NS_TEST_ASSERT_MSG_EQ(buf->GetAuthenticationBitsConsumed(), 140u, "auth bits counted");
        NS_TEST_ASSERT_MSG_EQ(buf->GetBitsConsumed(), 0u, "no application bits taken");
    }
};

/** Key beyond the capacity is discarded and counted, never stored. */
class QkdKeyBufferCapacityTestCase : public TestCase
{
  public:
    QkdKeyBufferCapacityTestCase()
        : TestCase("key buffer discards key above its capacity")
    {
    }

  private:
    void DoRun() override
    {
        Ptr<QkdKeyBuffer> buf = MakeBuffer(1000, 0, 500, 900);
        NS_TEST_ASSERT_MSG_EQ(buf->AddKey(300), 100u, "only 100 bits of room");
        NS_TEST_ASSERT_MSG_EQ(buf->GetLevelBits(), 1000u, "full");
        NS_TEST_ASSERT_MSG_EQ(buf->GetBitsOverflowed(), 200u, "200 discarded");
        NS_TEST_ASSERT_MSG_EQ(buf->GetBitsAdded(), 100u, "100 stored");
    }
};

class QkdKeyBufferTestSuite : public TestSuite
{
  public:
    QkdKeyBufferTestSuite()
        : TestSuite("qkd-key-buffer", Type::UNIT)
    {
        AddTestCase(new QkdKeyBufferStateTestCase(), Duration::QUICK);
        AddTestCase(new QkdKeyBufferReserveTestCase(), Duration::QUICK);
        AddTestCase(new QkdKeyBufferCapacityTestCase(), Duration::QUICK);
    }
};

} // namespace

static QkdKeyBufferTestSuite g_qkdKeyBufferTestSuite;
