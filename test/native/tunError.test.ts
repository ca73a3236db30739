import { describe, expect, it } from 'vitest';
import { TunError, toTunError, isGone, isRetryable, tunErrorFromCode } from '../../src/native/tunError.js';

describe('TunError', () => {
  it('has the shape of a Node system error', () => {
    const e = new TunError(1, 'ioctl(TUNSETIFF)', 'tun0');
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('TunError');
    expect(e.code).toBe('EPERM');
    expect(e.errno).toBe(-1);
    expect(e.syscall).toBe('ioctl(TUNSETIFF)');
    expect(e.ifname).toBe('tun0');
    expect(e.message).toMatch(/^ioctl\(TUNSETIFF\) tun0: EPERM \(operation not permitted\)/);
    expect(e.message).toContain('CAP_NET_ADMIN');
    expect(e.message).toContain('setcap cap_net_admin=ep');
  });

  it('accepts a negative errno as well', () => {
    expect(new TunError(-16, 'ioctl(TUNSETIFF)').code).toBe('EBUSY');
    expect(new TunError(19, 'ioctl(SIOCGIFMTU)', 'x').message).toContain('No interface of that name');
  });

  it('names errnos that libuv does not know (EBADMSG, and EBADFD, which Node has no constant for)', () => {
    expect(new TunError(74, 'recvmsg(/run/x.sock)').code).toBe('EBADMSG');
    const badfd = new TunError(77, 'ioctl(TUNGETIFF)');
    expect(badfd.code).toBe('EBADFD');
    expect(badfd.message).toMatch(/^ioctl\(TUNGETIFF\): EBADFD \(file descriptor in bad state\)\. The fd is a TUN\/TAP fd with no device/);
    expect(isGone(badfd)).toBe(true);
    expect(new TunError(3000, 'x').code).toBe('E3000');
  });

  it('converts addon errors and leaves other errors alone', () => {
    const nativeErr = Object.assign(new Error('ioctl(TUNSETIFF): Device or resource busy'), { errno: 16, syscall: 'ioctl(TUNSETIFF)' });
    const t = toTunError(nativeErr, 'tun1') as TunError;
    expect(t).toBeInstanceOf(TunError);
    expect(t.code).toBe('EBUSY');
    expect(t.cause).toBe(nativeErr);
    const type = new TypeError('x');
    expect(toTunError(type)).toBe(type);
  });

  it('classifies retryable and gone errors', () => {
    expect(isRetryable(tunErrorFromCode('EAGAIN', 'read'))).toBe(true);
    expect(isRetryable(tunErrorFromCode('EPERM', 'read'))).toBe(false);
    expect(isGone(tunErrorFromCode('EBADF', 'read'))).toBe(true);
    expect(isGone(new Error('EBADF'))).toBe(false);
  });

  it('names errnos libuv does not know (EBADMSG, ENOLINK) instead of "Unknown system error"', () => {
    expect(new TunError(74, 'recvmsg(AF_NETLINK)').code).toBe('EBADMSG');
    expect(new TunError(67, 'netlink(RTM_NEWROUTE)').code).toBe('ENOLINK');
    expect(new TunError(4000, 'x').code).toBe('E4000');
  });

  it('puts a detail after the errno, before the hint', () => {
    const e = new TunError(22, 'netlink(RTM_NEWROUTE)', 'tun0', { detail: 'the kernel says "Invalid prefix"' });
    expect(e.message).toBe('netlink(RTM_NEWROUTE) tun0: EINVAL (invalid argument): the kernel says "Invalid prefix"');
    expect(new TunError(3, 'netlink(RTM_DELROUTE)').message).toMatch(/ESRCH \(no such entry\)\. No such route/);
  });
});
