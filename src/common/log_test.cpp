#include "common/log.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace otad::log {
namespace {

// Sends stderr to a temporary file for the life of the test and reads it back.
class LogTest : public ::testing::Test {
  protected:
    void SetUp() override {
        char path[] = "/tmp/otad-log-test-XXXXXX";
        file_ = ::mkstemp(path);
        ASSERT_GE(file_, 0);
        ::unlink(path);
        std::fflush(stderr);
        saved_ = ::dup(STDERR_FILENO);
        ASSERT_GE(saved_, 0);
        ASSERT_GE(::dup2(file_, STDERR_FILENO), 0);
    }
    void TearDown() override {
        Flush();
        ::dup2(saved_, STDERR_FILENO);
        ::close(saved_);
        ::close(file_);
    }
    std::string Written() const {
        std::string out;
        char buf[4096];
        off_t at = 0;
        while (true) {
            const ssize_t n = ::pread(file_, buf, sizeof buf, at);
            if (n <= 0) {
                return out;
            }
            out.append(buf, static_cast<size_t>(n));
            at += n;
        }
    }
    // Whether `text` shows up within two seconds.
    bool Eventually(const std::string& text) const {
        for (int i = 0; i < 200; ++i) {
            if (Written().find(text) != std::string::npos) {
                return true;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return false;
    }

    int file_ = -1;
    int saved_ = -1;
};

TEST_F(LogTest, UnbufferedLinesAreWrittenAtOnce) {
    Write(Level::kInfo, "first");
    const std::string text = Written();
    EXPECT_NE(text.find(" INFO first\n"), std::string::npos) << text;
}

TEST_F(LogTest, BufferedInfoWaitsAndAWarningWritesEverythingBeforeIt) {
    Buffering buffering(std::chrono::hours(1));
    Write(Level::kInfo, "one");
    Write(Level::kDebug, "two");
    EXPECT_EQ(Written(), "");
    Write(Level::kWarn, "three");
    const std::string text = Written();
    const size_t one = text.find(" INFO one\n");
    const size_t two = text.find(" DEBUG two\n");
    const size_t three = text.find(" WARN three\n");
    ASSERT_NE(one, std::string::npos) << text;
    ASSERT_NE(two, std::string::npos) << text;
    ASSERT_NE(three, std::string::npos) << text;
    EXPECT_LT(one, two);
    EXPECT_LT(two, three);
    Write(Level::kInfo, "four");
    EXPECT_EQ(Written().find("four"), std::string::npos);
    Flush();
    EXPECT_NE(Written().find(" INFO four\n"), std::string::npos);
}

TEST_F(LogTest, BufferedLinesAreWrittenWhenTheBufferFillsOrTheIntervalPasses) {
    {
        Buffering buffering(std::chrono::hours(1), 64);
        Write(Level::kInfo, "short");
        EXPECT_EQ(Written(), "");
        Write(Level::kInfo, std::string(80, 'x'));  // past 64 pending bytes: written by this call
        const std::string text = Written();
        EXPECT_NE(text.find(" INFO short\n"), std::string::npos) << text;
        EXPECT_NE(text.find(std::string(80, 'x')), std::string::npos) << text;
        Write(Level::kInfo, "at the end");
    }
    // The destructor wrote what was pending, and logging is unbuffered again.
    EXPECT_NE(Written().find(" INFO at the end\n"), std::string::npos);
    Write(Level::kInfo, "after");
    EXPECT_NE(Written().find(" INFO after\n"), std::string::npos);

    Buffering buffering(std::chrono::milliseconds(20));
    Write(Level::kInfo, "by the flusher");
    EXPECT_TRUE(Eventually(" INFO by the flusher\n"));
}

TEST_F(LogTest, LinesFromManyThreadsStayWhole) {
    Buffering buffering(std::chrono::milliseconds(5), 512);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([t] {
            for (int i = 0; i < 200; ++i) {
                Write(Level::kInfo, "thread " + std::to_string(t) + " line " + std::to_string(i));
            }
        });
    }
    for (std::thread& thread : threads) {
        thread.join();
    }
    Flush();
    const std::string text = Written();
    size_t lines = 0;
    size_t at = 0;
    while ((at = text.find('\n', at)) != std::string::npos) {
        ++lines;
        ++at;
    }
    EXPECT_EQ(lines, 800u);
    for (int t = 0; t < 4; ++t) {
        EXPECT_NE(text.find(" INFO thread " + std::to_string(t) + " line 199\n"),
                  std::string::npos);
    }
}

}  // namespace
}  // namespace otad::log
