# murmur — MurmurHash64A-style mixing of the input, 8 bytes at a time
lddw %r0, 0x9e3779b97f4a7c15
lddw %r6, 0xc6a4a7935bd1e995
mov %r3, %r1
add %r3, %r2
and %r2, 7
sub %r3, %r2
jge %r1, %r3, done
loop:
ldxdw %r4, [%r1+0]
mul %r4, %r6
mov %r5, %r4
rsh %r5, 47
xor %r4, %r5
mul %r4, %r6
xor %r0, %r4
mul %r0, %r6
add %r1, 8
jlt %r1, %r3, loop
done:
mov %r5, %r0
rsh %r5, 47
xor %r0, %r5
exit
