# sieve — primes below 4096 with a bit per number in the 512-byte stack frame
mov %r1, %r10
add %r1, -512
zero:
stdw [%r1+0], 0
add %r1, 8
jlt %r1, %r10, zero
mov %r0, 0
mov %r2, 2
outer:
jge %r2, 4096, done
mov %r3, %r2
rsh %r3, 3
mov %r4, %r10
add %r4, -512
add %r4, %r3
ldxb %r5, [%r4+0]
mov %r6, %r2
and %r6, 7
rsh %r5, %r6
and %r5, 1
jne %r5, 0, next
add %r0, 1
mov %r7, %r2
mul %r7, %r2
inner:
jge %r7, 4096, next
mov %r3, %r7
rsh %r3, 3
mov %r4, %r10
add %r4, -512
add %r4, %r3
ldxb %r5, [%r4+0]
mov %r6, %r7
and %r6, 7
mov %r8, 1
lsh %r8, %r6
or %r5, %r8
stxb [%r4+0], %r5
add %r7, %r2
ja inner
next:
add %r2, 1
ja outer
done:
exit
