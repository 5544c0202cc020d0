// Unit tests of the append-only state log.
#include "mqchat/access/state_log.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace mqchat::access {
namespace {

class StateLogTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        std::random_device rd;
        dir_ = std::filesystem::temp_directory_path() /
               ("mqchat-log-" + std::to_string(rd()) + std::to_string(rd()));
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::filesystem::path dir_;
};

TEST_F(StateLogTest, AppendedLinesAreReadBackInOrder)
{
    StateLog log(dir_.string());
    ASSERT_TRUE(log.append("one"));
    ASSERT_TRUE(log.append("two"));
    EXPECT_EQ(log.read_all(), (std::vector<std::string>{"one", "two"}));
    EXPECT_EQ(log.size_bytes(), 8u);
}

TEST_F(StateLogTest, SkipsATornLastLine)
{
    {
        StateLog log(dir_.string());
        ASSERT_TRUE(log.append("complete"));
    }
    std::ofstream(dir_ / "state.jsonl", std::ios::app) << "{\"t\":\"se";
    StateLog log(dir_.string());
    EXPECT_EQ(log.read_all(), (std::vector<std::string>{"complete"}));
}

TEST_F(StateLogTest, RewriteReplacesContentAndKeepsAppending)
{
    StateLog log(dir_.string());
    ASSERT_TRUE(log.append("old"));
    ASSERT_TRUE(log.rewrite({"a", "b"}));
    ASSERT_TRUE(log.append("c"));
    EXPECT_EQ(log.read_all(), (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_FALSE(std::filesystem::exists(dir_ / "state.jsonl.tmp"));
}

}  // namespace
}  // namespace mqchat::access
