#include "runtime/handler_slot.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <memory>

namespace webstream::runtime {
namespace {

namespace net = boost::asio;
using namespace std::chrono_literals;

// The owner of a slot, kept alive by the handlers it hands to asio (as the relay's tunnel is).
struct Owner {
  explicit Owner(net::io_context& io) : timer(io), second(io) {}
  HandlerSlot slot;
  net::steady_timer timer;
  net::steady_timer second;
  int calls = 0;
};

TEST(HandlerSlotTest, APendingWaitLivesInTheSlotAndFreesItBeforeItsHandlerRuns) {
  net::io_context io;
  auto owner = std::make_shared<Owner>(io);
  bool slot_free_in_handler = false;
  owner->timer.expires_after(1ms);
  owner->timer.async_wait(bind_slot(owner->slot, [owner, &slot_free_in_handler](boost::system::error_code ec) {
    EXPECT_FALSE(ec);
    slot_free_in_handler = !owner->slot.in_use();  // so the handler may start the next wait in it
    ++owner->calls;
  }));
  EXPECT_TRUE(owner->slot.in_use());
  io.run();
  EXPECT_EQ(owner->calls, 1);
  EXPECT_TRUE(slot_free_in_handler);
  EXPECT_FALSE(owner->slot.in_use());
}

TEST(HandlerSlotTest, ASecondOperationWhileTheSlotIsTakenGoesToTheHeap) {
  net::io_context io;
  auto owner = std::make_shared<Owner>(io);
  owner->timer.expires_after(1ms);
  owner->second.expires_after(2ms);
  owner->timer.async_wait(bind_slot(owner->slot, [owner](boost::system::error_code) { ++owner->calls; }));
  owner->second.async_wait(bind_slot(owner->slot, [owner](boost::system::error_code) { ++owner->calls; }));
  io.run();
  EXPECT_EQ(owner->calls, 2);
  EXPECT_FALSE(owner->slot.in_use());
}

TEST(HandlerSlotTest, AnOperationLargerThanTheSlotGoesToTheHeap) {
  HandlerSlot slot;
  SlotAllocator<char> alloc(slot);
  char* big = alloc.allocate(HandlerSlot::kBytes + 1);
  EXPECT_FALSE(slot.in_use());
  char* fits = alloc.allocate(HandlerSlot::kBytes);
  EXPECT_TRUE(slot.in_use());
  alloc.deallocate(big, HandlerSlot::kBytes + 1);
  alloc.deallocate(fits, HandlerSlot::kBytes);
  EXPECT_FALSE(slot.in_use());
}

TEST(HandlerSlotTest, AnIoContextDestroyedWithTheWaitPendingReleasesTheOwner) {
  std::weak_ptr<Owner> watched;
  {
    net::io_context io;
    auto owner = std::make_shared<Owner>(io);
    watched = owner;
    owner->timer.expires_after(1h);
    owner->timer.async_wait(bind_slot(owner->slot, [owner](boost::system::error_code) { ++owner->calls; }));
    owner.reset();
    EXPECT_FALSE(watched.expired());  // the pending wait holds it
  }  // the io_context destroys the operation: its memory goes back to the slot before the owner is freed
  EXPECT_TRUE(watched.expired());
}

TEST(HandlerSlotTest, ASocketWaitFitsTheSlot) {
  // The relay's waits for readability must fit, or an idle relay would still hold a heap block per side.
  net::io_context io;
  net::ip::tcp::acceptor acceptor(io, {net::ip::make_address("127.0.0.1"), 0});
  net::ip::tcp::socket client(io);
  client.connect(acceptor.local_endpoint());
  auto server = std::make_shared<net::ip::tcp::socket>(acceptor.accept());
  HandlerSlot slot;
  bool woke = false;
  server->async_wait(net::ip::tcp::socket::wait_read,
                     bind_slot(slot, [server, &woke](boost::system::error_code ec) { woke = !ec; }));
  EXPECT_TRUE(slot.in_use());
  const char byte = 'x';
  net::write(client, net::buffer(&byte, 1));
  io.run();
  EXPECT_TRUE(woke);
  EXPECT_FALSE(slot.in_use());
}

}  // namespace
}  // namespace webstream::runtime
