#include "mqchat/service/worker_pool.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <thread>

namespace mqchat::service {
namespace {

using namespace std::chrono_literals;

// The nice value of the thread that runs a job on `pool`.
int nice_inside(WorkerPool& pool)
{
    std::promise<int> seen;
    auto result = seen.get_future();
    EXPECT_TRUE(pool.try_submit([&seen] {
        errno = 0;
        seen.set_value(getpriority(PRIO_PROCESS, static_cast<id_t>(gettid())));
    }));
    EXPECT_EQ(result.wait_for(10s), std::future_status::ready);
    return result.get();
}

int own_nice()
{
    return getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
}

TEST(WorkerPoolTest, WorkersRunAtTheNiceValueAskedFor)
{
    const int base = own_nice();
    WorkerPool pool(2, 8, 10);
    EXPECT_EQ(nice_inside(pool), std::min(base + 10, 19));
    // Only the workers: the thread that made the pool keeps its priority.
    EXPECT_EQ(own_nice(), base);
}

TEST(WorkerPoolTest, NiceZeroLeavesWorkersAtTheCallersPriority)
{
    WorkerPool pool(1, 8);
    EXPECT_EQ(nice_inside(pool), own_nice());
}

TEST(WorkerPoolTest, RefusesJobsBeyondItsQueue)
{
    WorkerPool pool(1, 1);
    std::promise<void> release;
    std::shared_future<void> gate = release.get_future().share();
    std::promise<void> started;
    ASSERT_TRUE(pool.try_submit([&started, gate] {
        started.set_value();
        gate.wait();
    }));
    started.get_future().wait();
    EXPECT_TRUE(pool.try_submit([] {}));   // queued
    EXPECT_FALSE(pool.try_submit([] {}));  // queue full
    release.set_value();
}

}  // namespace
}  // namespace mqchat::service
