#include "mqchat/client/error.hpp"

#include <gtest/gtest.h>

namespace mqchat::client {
namespace {

TEST(ClientError, WhatCarriesCodeThenMessage)
{
    Error error(ErrorCode::wrong_password, "wrong room password");
    EXPECT_EQ(error.code(), ErrorCode::wrong_password);
    EXPECT_EQ(error.message(), "wrong room password");
    EXPECT_STREQ(error.what(), "wrong_password: wrong room password");
}

}  // namespace
}  // namespace mqchat::client
