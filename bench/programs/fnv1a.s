# fnv1a — 64-bit FNV-1a over the input (r1 = data, r2 = its length): a
# load, xor and multiply per byte
lddw %r0, 0xcbf29ce484222325
lddw %r4, 0x100000001b3
mov %r3, %r1
add %r3, %r2
jge %r1, %r3, done
loop:
ldxb %r5, [%r1+0]
xor %r0, %r5
mul %r0, %r4
add %r1, 1
jlt %r1, %r3, loop
done:
exit
