#include "mqchat/service/worker_pool.hpp"

#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>

namespace mqchat::service {

namespace {

// Adds `nice` to the calling thread's nice value. On Linux setpriority()
// with PRIO_PROCESS and a thread id changes that one thread only.
void lower_own_priority(int nice)
{
    const auto self = static_cast<id_t>(gettid());
    errno = 0;
    const int current = getpriority(PRIO_PROCESS, self);
    if (current == -1 && errno != 0) {
        spdlog::warn("worker_pool: cannot read thread priority: {}", std::strerror(errno));
        return;
    }
    const int wanted = std::min(current + nice, 19);
    if (setpriority(PRIO_PROCESS, self, wanted) != 0) {
        spdlog::warn("worker_pool: cannot set thread nice {}: {}", wanted, std::strerror(errno));
    }
}

}  // namespace

WorkerPool::WorkerPool(std::size_t threads, std::size_t capacity, int nice)
    : capacity_(capacity == 0 ? 1 : capacity), nice_(std::clamp(nice, 0, 19))
{
    const std::size_t count = threads == 0 ? 1 : threads;
    for (std::size_t i = 0; i < count; ++i) {
        threads_.emplace_back([this] { run(); });
    }
}

WorkerPool::~WorkerPool()
{
    stop();
}

bool WorkerPool::try_submit(std::function<void()> job)
{
    {
        std::lock_guard lock(mutex_);
        if (stopping_ || jobs_.size() >= capacity_) {
            return false;
        }
        jobs_.push_back(std::move(job));
    }
    ready_.notify_one();
    return true;
}

void WorkerPool::stop()
{
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    ready_.notify_all();
    for (auto& thread : threads_) {
        if (thread.joinable()) {
            thread.join();
        }
    }
}

void WorkerPool::run()
{
    if (nice_ > 0) {
        lower_own_priority(nice_);
    }
    for (;;) {
        std::function<void()> job;
        {
            std::unique_lock lock(mutex_);
            ready_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
            // Drain before exiting: queued requests still get their reply.
            if (jobs_.empty()) {
                return;
            }
            job = std::move(jobs_.front());
            jobs_.pop_front();
        }
        try {
            job();
        } catch (const std::exception& e) {
            spdlog::error("worker_pool: job failed: {}", e.what());
        } catch (...) {
            spdlog::error("worker_pool: job failed with an unknown exception");
        }
    }
}

}  // namespace mqchat::service
