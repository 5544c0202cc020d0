// A fixed set of threads draining a bounded queue of jobs.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace mqchat::service {

// Runs jobs off the MQTT callback thread (Argon2 takes tens of ms and
// 64 MiB per call). The queue is bounded so a flood cannot grow memory.
//
// `nice` (0-19) is added to each worker thread's nice value when it starts
// (Linux: setpriority on the thread id), so that a burst of hashing yields
// the CPU to the broker and to the other threads of the process, which
// deliver chat messages; 0 leaves the threads as they are. This only works
// among threads the scheduler weighs together: it does not lower the
// process's share against other processes in other cgroups or autogroups.
// Failing to change the priority is logged as a warning, not an error.
//
// Thread safety: try_submit() and stop() may be called from any thread.
// Jobs run on the pool's threads; a job that throws is logged and dropped.
class WorkerPool {
public:
    WorkerPool(std::size_t threads, std::size_t capacity, int nice = 0);
    ~WorkerPool();  // calls stop()
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

    // False when the queue is full or the pool is stopping; the job is not run.
    [[nodiscard]] bool try_submit(std::function<void()> job);

    // Refuses new jobs, runs every queued one, and joins the threads.
    void stop();

private:
    void run();

    std::size_t capacity_;
    int nice_;
    std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<std::function<void()>> jobs_;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

}  // namespace mqchat::service
