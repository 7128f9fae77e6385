// The owner of the precompiled header every unit-test binary reuses (CMakeLists.txt, webstream_test_pch):
// GoogleTest, GoogleMock, Boost.Asio and Boost.Beast parsed once per build directory instead of once per test
// source. Nothing is defined here; CMake needs one source to attach the header to.
