# checksum — the Internet checksum (RFC 1071) of the input, 32 bits at a
# time into a 64-bit sum, folded to 16 bits and returned in network order
mov %r0, 0
mov %r3, %r1
add %r3, %r2
mov %r4, %r3
and %r4, -4
jge %r1, %r4, tail
loop:
ldxw %r5, [%r1+0]
add %r0, %r5
add %r1, 4
jlt %r1, %r4, loop
tail:
jge %r1, %r3, fold
ldxb %r5, [%r1+0]
add %r0, %r5
add %r1, 1
ja tail
fold:
mov %r5, %r0
rsh %r5, 32
mov32 %r0, %r0
add %r0, %r5
mov %r5, %r0
rsh %r5, 16
and %r0, 0xffff
add %r0, %r5
mov %r5, %r0
rsh %r5, 16
and %r0, 0xffff
add %r0, %r5
xor %r0, 0xffff
be16 %r0
exit
