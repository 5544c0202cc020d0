#include "mqchat/service/worker_pool.hpp"

#include <spdlog/spdlog.h>

#include <exception>

namespace mqchat::service {

WorkerPool::WorkerPool(std::size_t threads, std::size_t capacity)
    : capacity_(capacity == 0 ? 1 : capacity)
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
