# Installation and packaging targets, included by the top-level Makefile.
#
#   make install [PREFIX=/usr] [DESTDIR=]   mount.cppaufs (PREFIX/sbin), auctl
#                                           (PREFIX/bin), the manual pages and
#                                           auctl's bash completion
#   make uninstall [PREFIX=/usr] [DESTDIR=] remove what install installed
#   make deb        build/pkg/deb/cppaufs-{dkms,tools}_<version>_*.deb
#   make rpm        build/pkg/rpm/cppaufs-{dkms,tools}-<version>-1.*.rpm
#   make man-lint   groff and mandoc warnings of the manual pages
#
# The module itself is installed through DKMS (the cppaufs-dkms package, or
# by hand: README.md).  mount(8) looks for its helper in /sbin, which on
# merged-/usr systems is /usr/sbin: with another PREFIX (/usr/local), link
# /sbin/mount.cppaufs to it.
#
# This file is also part of the module source that DKMS builds from
# (/usr/src/cppaufs-<version>), where these targets are not used: it
# defines no goal of its own and runs nothing when it is read.

_pkg_default_goal := $(.DEFAULT_GOAL)

PREFIX ?= /usr
DESTDIR ?=
PKG_OUT ?= $(BUILD)/pkg
# The tools are built without the tests here: installing needs no Catch2.
INSTALL_BUILD ?= $(BUILD)/cmake-install

# What the CMake install rules install, relative to PREFIX (GNUInstallDirs
# defaults); tests/pkg checks that uninstall leaves nothing of install.
PKG_INSTALLED_FILES = sbin/mount.cppaufs bin/auctl \
	share/man/man5/cppaufs.5 share/man/man8/auctl.8 \
	share/man/man8/mount.cppaufs.8 \
	share/bash-completion/completions/auctl

.PHONY: install uninstall deb rpm man-lint

install:
	cmake -S $(TOP) -B $(INSTALL_BUILD) -DBUILD_TESTING=OFF \
		-DCMAKE_BUILD_TYPE=$(CMAKE_BUILD_TYPE) \
		-DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	cmake --build $(INSTALL_BUILD) -j $(JOBS)
	DESTDIR="$(DESTDIR)" cmake --install $(INSTALL_BUILD) --prefix $(PREFIX)

uninstall:
	rm -f $(foreach f,$(PKG_INSTALLED_FILES),"$(DESTDIR)$(PREFIX)/$(f)")

deb:
	$(TOP)/packaging/build-deb.sh --out $(PKG_OUT)/deb

rpm:
	$(TOP)/packaging/build-rpm.sh --out $(PKG_OUT)/rpm

man-lint:
	$(TOP)/packaging/man-lint.sh $(TOP)/man/*.[0-9]

.DEFAULT_GOAL := $(_pkg_default_goal)
