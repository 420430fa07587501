//! The kernel's receive time of what a TCP socket reads (`SO_TIMESTAMPNS`).
//!
//! With it, an answer ends when its last bytes reached this host, not when
//! the generator got round to reading them: a generator that is busy, or
//! asleep until its next batch of starts, does not add its own delay to
//! the latency it reports. The stamp is wall-clock time (the only clock the
//! kernel stamps software receives with) and is turned into an [`std::time::Instant`]
//! against both clocks read together, at most once per answer.

pub(super) use imp::{SUPPORTED, Stamp, enable, recv, to_instant};

#[cfg(target_os = "linux")]
mod imp {
    use std::io;
    use std::mem::{size_of, size_of_val, zeroed};
    use std::os::fd::{AsRawFd, RawFd};
    use std::ptr;
    use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

    pub(crate) const SUPPORTED: bool = true;

    /// A receive time: seconds and nanoseconds since the Unix epoch.
    pub(crate) type Stamp = Duration;

    /// Asks the kernel to stamp what `socket` receives.
    pub(crate) fn enable(socket: &impl AsRawFd) -> io::Result<()> {
        let on: libc::c_int = 1;
        // SAFETY: a valid descriptor, and an option value of the size given.
        let rc = unsafe {
            libc::setsockopt(
                socket.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_TIMESTAMPNS,
                ptr::from_ref(&on).cast(),
                size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if rc == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }

    /// Room for the one control message asked for (a `cmsghdr` and a
    /// `timespec`), aligned as `cmsghdr` must be.
    #[repr(C, align(8))]
    struct Control([u8; 64]);

    /// Reads into `buf` like `recv`, and returns the receive time of the
    /// last bytes read, when the kernel gave one. A raw system call, as the
    /// rest of [`super::super::RawTcp`]'s: libc's `recvmsg` is a
    /// cancellation point.
    pub(crate) fn recv(
        socket: &impl AsRawFd,
        buf: &mut [u8],
    ) -> io::Result<(usize, Option<Stamp>)> {
        recv_fd(socket.as_raw_fd(), buf)
    }

    fn recv_fd(fd: RawFd, buf: &mut [u8]) -> io::Result<(usize, Option<Stamp>)> {
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        let mut control = Control([0; 64]);
        // SAFETY: `msghdr` is plain data, for which all zeroes is valid.
        let mut msg: libc::msghdr = unsafe { zeroed() };
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.0.as_mut_ptr().cast();
        msg.msg_controllen = size_of_val(&control.0) as _;
        // SAFETY: `msg` points at one buffer and one control area, both
        // alive and of the lengths given, for the length of the call.
        let n = unsafe { libc::syscall(libc::SYS_recvmsg, fd, ptr::from_mut(&mut msg), 0) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut stamp = None;
        // A control area cut short (MSG_CTRUNC) is not trusted.
        if msg.msg_flags & libc::MSG_CTRUNC != 0 {
            return Ok((n as usize, None));
        }
        // SAFETY: arithmetic on a length, touching no memory.
        let timespec_len = unsafe { libc::CMSG_LEN(size_of::<libc::timespec>() as u32) } as usize;
        // SAFETY: the kernel filled `msg`'s control area and set its length;
        // the CMSG macros walk it within that length, and a timespec is read
        // unaligned from a message of its own type that is long enough.
        unsafe {
            let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
            while !cmsg.is_null() {
                if (*cmsg).cmsg_level == libc::SOL_SOCKET
                    && (*cmsg).cmsg_type == libc::SCM_TIMESTAMPNS
                    && (*cmsg).cmsg_len as usize >= timespec_len
                {
                    let ts = ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast::<libc::timespec>());
                    stamp =
                        (ts.tv_sec > 0).then(|| Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32));
                }
                cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
            }
        }
        Ok((n as usize, stamp))
    }

    /// The instant of a receive time: `now`, less how long ago it was by
    /// the wall clock read at once (none if the wall clock was set back
    /// since).
    pub(crate) fn to_instant(stamp: Stamp, now: Instant) -> Option<Instant> {
        let wall = SystemTime::now().duration_since(UNIX_EPOCH).ok()?;
        now.checked_sub(wall.saturating_sub(stamp))
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use std::io;
    use std::time::Instant;

    pub(crate) const SUPPORTED: bool = false;

    pub(crate) type Stamp = std::time::Duration;

    pub(crate) fn enable<S>(_: &S) -> io::Result<()> {
        Err(io::ErrorKind::Unsupported.into())
    }

    pub(crate) fn recv<S>(_: &S, _: &mut [u8]) -> io::Result<(usize, Option<Stamp>)> {
        unreachable!("stamps are never enabled off Linux")
    }

    pub(crate) fn to_instant(_: Stamp, _: Instant) -> Option<Instant> {
        None
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use std::io::Write;
    use std::net::{TcpListener, TcpStream};
    use std::time::{Duration, Instant};

    use super::*;

    #[test]
    fn a_read_is_stamped_with_when_its_bytes_arrived_not_when_it_was_read() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut server, _) = listener.accept().unwrap();
        enable(&client).expect("SO_TIMESTAMPNS");
        // The first socket to ask turns stamping on for the whole host, a
        // little later (the kernel defers it): until then reads have none.
        let mut buf = [0u8; 64];
        let stamping = (0..200).any(|_| {
            server.write_all(b"x").unwrap();
            let (n, stamp) = recv(&client, &mut buf).unwrap();
            assert_eq!(n, 1);
            stamp.is_some() || {
                std::thread::sleep(Duration::from_millis(5));
                false
            }
        });
        assert!(stamping, "no receive stamp within a second of asking");
        let before = Instant::now();
        server.write_all(b"HTTP/1.1 201 Created\r\n\r\n").unwrap();
        // The bytes wait in the socket while the reader is busy elsewhere.
        std::thread::sleep(Duration::from_millis(30));
        let (n, stamp) = recv(&client, &mut buf).unwrap();
        let read_at = Instant::now();
        assert_eq!(&buf[..n], b"HTTP/1.1 201 Created\r\n\r\n");
        let arrived = to_instant(stamp.expect("a receive stamp"), read_at).unwrap();
        assert!(
            arrived >= before - Duration::from_millis(1),
            "{:?}",
            before - arrived
        );
        // Read 30 ms after it came: the stamp says when it came.
        assert!(
            read_at - arrived >= Duration::from_millis(25),
            "{:?}",
            read_at - arrived
        );
    }

    #[test]
    fn without_stamps_asked_for_a_read_has_none() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut server, _) = listener.accept().unwrap();
        server.write_all(b"x").unwrap();
        let mut buf = [0u8; 8];
        let (n, stamp) = recv(&client, &mut buf).unwrap();
        assert_eq!((n, stamp), (1, None));
    }
}
