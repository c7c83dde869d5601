# CMake toolchain file: cross-build siptlsd for AArch64 on a Debian 12 x86-64 host.
#
#   bash scripts/cross-arm64.sh          # the one documented command (installs, builds, tests)
#
# or by hand, once scripts/cross-arm64.sh has prepared the packages and build/arm64/arm64-deps:
#   cmake -S . -B build/arm64 -G Ninja -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake \
#         -DCMAKE_BUILD_TYPE=Debug -DSIPTLS_WERROR=ON -DSIPTLS_BENCH=OFF
#   cmake --build build/arm64 && (cd build/arm64 && ctest)
#
# What it expects (docs/aarch64.md explains each choice):
# - Debian's cross compiler gcc-aarch64-linux-gnu. It is multiarch-aware: it searches
#   /usr/include/aarch64-linux-gnu and /usr/lib/aarch64-linux-gnu, where the arm64 -dev
#   packages (libssl-dev:arm64, liburing-dev:arm64, libc6-dev:arm64) install.
# - ARM64_DEPS (default <build dir>/arm64-deps): a private tree with the arm64 files of the
#   packages that cannot be co-installed with their amd64 twins (libjemalloc-dev is
#   Multi-Arch: no; libcriterion3 needs libnanomsg5, whose amd64 build is a binNMU with another
#   version). scripts/cross-arm64.sh fills it with dpkg-deb -x; it comes first on pkg-config's
#   path so its rewritten .pc files win.
# - qemu-user's qemu-aarch64 to run what we build. Debian's multiarch libc6:arm64 puts the
#   guest loader at /lib/ld-linux-aarch64.so.1 on the host, so no -L prefix is passed:
#   -L /usr/aarch64-linux-gnu would pair the cross-toolchain's ld.so with the multiarch libc.
#   The exec shim (cmake/aarch64-qemu-exec.c, built into ARM64_DEPS by the script) makes a
#   guest's execve of another AArch64 binary start a new qemu-aarch64: Criterion runs every
#   test by re-executing its own binary, which the kernel cannot do without binfmt_misc.

set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_AR aarch64-linux-gnu-ar CACHE FILEPATH "")
set(CMAKE_RANLIB aarch64-linux-gnu-ranlib CACHE FILEPATH "")
set(CMAKE_STRIP aarch64-linux-gnu-strip CACHE FILEPATH "")

# Only the host's programs run during the build; libraries and headers come from the arm64
# multiarch directories (the compiler's own search path) and ARM64_DEPS, never x86_64 ones.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)

if(NOT DEFINED ARM64_DEPS)
  set(ARM64_DEPS "${CMAKE_BINARY_DIR}/arm64-deps")
endif()
set(ARM64_DEPS "${ARM64_DEPS}" CACHE PATH "arm64 files of non-co-installable packages")
# try_compile projects read this file again from their own binary directory
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES ARM64_DEPS)
set(_arm64_deps_lib "${ARM64_DEPS}/usr/lib/aarch64-linux-gnu")

# pkg-config: the arm64 .pc files only. PKG_CONFIG_LIBDIR replaces the default (x86_64)
# search path; ARM64_DEPS first so its jemalloc.pc and criterion.pc are found.
set(ENV{PKG_CONFIG_LIBDIR}
    "${_arm64_deps_lib}/pkgconfig:/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "")

# libcriterion.so.3 in ARM64_DEPS needs libnanomsg.so.5 from the same place: ld does not use
# -L paths to find a shared library's own dependencies, -rpath-link tells it where to look.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-Wl,-rpath-link,${_arm64_deps_lib}")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-Wl,-rpath-link,${_arm64_deps_lib}")

# How ctest (and add_test/add_custom_command with a target) runs an AArch64 binary.
find_program(ARM64_QEMU NAMES qemu-aarch64 qemu-aarch64-static REQUIRED)
set(_arm64_emulator "${ARM64_QEMU}" -E "LD_LIBRARY_PATH=${_arm64_deps_lib}")
if(EXISTS "${ARM64_DEPS}/lib/siptls-qemu-exec.so")
  list(APPEND _arm64_emulator -E "LD_PRELOAD=${ARM64_DEPS}/lib/siptls-qemu-exec.so"
       -E "SIPTLS_QEMU=${ARM64_QEMU}")
endif()
set(CMAKE_CROSSCOMPILING_EMULATOR ${_arm64_emulator} CACHE STRING
    "Runs AArch64 binaries for ctest" FORCE)
