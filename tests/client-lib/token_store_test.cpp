#include "mqchat/client/token_store.hpp"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mqchat::client {
namespace {

namespace fs = std::filesystem;

// A fresh folder per test, removed afterwards.
class FileTokenStoreTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        std::string pattern = (fs::temp_directory_path() / "mqchat-tokens-XXXXXX").string();
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        dir_ = pattern;
    }
    void TearDown() override { fs::remove_all(dir_); }

    fs::path dir_;
};

TEST(MemoryTokenStore, KeepsSessionAndJoinTokens)
{
    MemoryTokenStore store;
    EXPECT_FALSE(store.session());
    store.set_session("s1");
    store.set_join_token("Book club", {"3f9a0c61d2b4", "j1"});
    EXPECT_EQ(store.session(), "s1");
    ASSERT_TRUE(store.join_token("Book club"));
    EXPECT_EQ(store.join_token("Book club")->room_id, "3f9a0c61d2b4");
    store.remove_join_token("Book club");
    EXPECT_FALSE(store.join_token("Book club"));
}

TEST_F(FileTokenStoreTest, MissingFileIsEmpty)
{
    FileTokenStore store((dir_ / "alice.json").string());
    EXPECT_FALSE(store.session());
    EXPECT_TRUE(store.load().rooms.empty());
}

TEST_F(FileTokenStoreTest, RoundTripsThroughANewInstance)
{
    std::string path = (dir_ / "broker_1883" / "alice.json").string();
    {
        FileTokenStore store(path);
        store.set_session("session-token");
        store.set_join_token("Book club \xc3\xa9", {"3f9a0c61d2b4", "join-1"});
        store.set_join_token("lobby", {"000000000001", "join-2"});
        store.remove_join_token("lobby");
    }
    FileTokenStore again(path);
    auto tokens = again.load();
    EXPECT_EQ(tokens.session, "session-token");
    ASSERT_EQ(tokens.rooms.size(), 1u);
    EXPECT_EQ(tokens.rooms.at("Book club \xc3\xa9").room_id, "3f9a0c61d2b4");
    EXPECT_EQ(tokens.rooms.at("Book club \xc3\xa9").token, "join-1");
}

TEST_F(FileTokenStoreTest, FileIsPrivateToTheUser)
{
    std::string path = (dir_ / "sub" / "alice.json").string();
    FileTokenStore store(path);
    store.set_session("s");

    struct stat file {};
    ASSERT_EQ(::stat(path.c_str(), &file), 0);
    EXPECT_EQ(file.st_mode & 0777, 0600u);
    struct stat folder {};
    ASSERT_EQ(::stat((dir_ / "sub").c_str(), &folder), 0);
    EXPECT_EQ(folder.st_mode & 0077, 0u);
}

TEST_F(FileTokenStoreTest, LeavesNoTemporaryFilesBehind)
{
    FileTokenStore store((dir_ / "alice.json").string());
    store.set_session("a");
    store.set_session("b");
    for (const auto& entry : fs::directory_iterator(dir_)) {
        EXPECT_EQ(entry.path().string().find(".tmp."), std::string::npos) << entry.path();
    }
}

TEST_F(FileTokenStoreTest, TwoStoresOnOneFileKeepEachOthersChanges)
{
    std::string path = (dir_ / "alice.json").string();
    FileTokenStore first(path);
    FileTokenStore second(path);
    first.set_join_token("a", {"00000000000a", "ta"});
    second.set_join_token("b", {"00000000000b", "tb"});
    EXPECT_EQ(first.load().rooms.size(), 2u);
}

TEST_F(FileTokenStoreTest, ForgettingTheSessionRemovesIt)
{
    FileTokenStore store((dir_ / "alice.json").string());
    store.set_session("s");
    store.set_session(std::nullopt);
    EXPECT_FALSE(store.session());
}

TEST_F(FileTokenStoreTest, MalformedFileThrows)
{
    std::string path = (dir_ / "alice.json").string();
    std::ofstream(path) << "{not json";
    FileTokenStore store(path);
    EXPECT_THROW((void)store.load(), std::runtime_error);
}

}  // namespace
}  // namespace mqchat::client
