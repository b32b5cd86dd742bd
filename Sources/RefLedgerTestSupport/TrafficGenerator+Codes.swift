extension TrafficGenerator {
    /// The code the ledger assigns to `participant` in `program` when the signup names none
    /// (SPEC §3): the first 40 bits of SHA-256 of `program + "/" + participant`, most
    /// significant first, as 8 Crockford base32 symbols. (The `2`, `3`, … suffix for a code
    /// already taken is not applied: that needs the program's codes.)
    public static func assignedCode(program: String, participant: String) -> String {
        let packed = assignedCodeBits(Array((program + "/" + participant).utf8))
        return String(decoding: withUnsafeBytes(of: packed.bigEndian) { Array($0) }, as: UTF8.self)
    }

    private static let crockford = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    /// The assigned code's 8 ASCII symbols packed big-endian into a `UInt64`.
    static func assignedCodeBits(_ message: [UInt8]) -> UInt64 {
        let digest = SHA256Digest.hash(message)
        let bits = UInt64(digest[0]) << 8 | UInt64(digest[1] >> 24)  // the first 40 bits
        var packed: UInt64 = 0
        for index in stride(from: 35, through: 0, by: -5) {
            packed = packed << 8 | UInt64(crockford[Int((bits >> UInt64(index)) & 0x1F)])
        }
        return packed
    }
}

/// SHA-256 (FIPS 180-4) of a short message, as eight big-endian 32-bit words. Enough for
/// assigned codes; the test-support target has no crypto library of its own.
enum SHA256Digest {
    private static let k: [UInt32] = [
        0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
        0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
        0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
        0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
        0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
        0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
        0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
        0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
    ]

    /// The eight words of SHA-256(`message`).
    static func hash(_ message: [UInt8]) -> [UInt32] {
        let blocks = (message.count + 9 + 63) / 64
        var h: [UInt32] = [
            0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19,
        ]
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: blocks * 64) { padded in
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
                padded.initialize(repeating: 0)
                for (index, byte) in message.enumerated() { padded[index] = byte }
                padded[message.count] = 0x80
                let bitLength = UInt64(message.count) * 8
                for index in 0..<8 {
                    padded[blocks * 64 - 1 - index] = UInt8(truncatingIfNeeded: bitLength >> UInt64(8 * index))
                }
                for block in 0..<blocks {
                    compress(UnsafeBufferPointer(rebasing: padded[(block * 64)..<(block * 64 + 64)]), w, &h)
                }
            }
        }
        return h
    }

    private static func compress(
        _ block: UnsafeBufferPointer<UInt8>,
        _ w: UnsafeMutableBufferPointer<UInt32>,
        _ h: inout [UInt32]
    ) {
        for t in 0..<16 {
            w[t] =
                UInt32(block[4 * t]) << 24 | UInt32(block[4 * t + 1]) << 16 | UInt32(block[4 * t + 2]) << 8
                | UInt32(block[4 * t + 3])
        }
        for t in 16..<64 {
            let s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3)
            let s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10)
            w[t] = w[t - 16] &+ s0 &+ w[t - 7] &+ s1
        }
        var (a, b, c, d, e, f, g, hh) = (h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7])
        k.withUnsafeBufferPointer { k in
            for t in 0..<64 {
                let s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
                let choice = (e & f) ^ (~e & g)
                let temp1 = hh &+ s1 &+ choice &+ k[t] &+ w[t]
                let s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
                let majority = (a & b) ^ (a & c) ^ (b & c)
                let temp2 = s0 &+ majority
                hh = g
                g = f
                f = e
                e = d &+ temp1
                d = c
                c = b
                b = a
                a = temp1 &+ temp2
            }
        }
        h[0] = h[0] &+ a
        h[1] = h[1] &+ b
        h[2] = h[2] &+ c
        h[3] = h[3] &+ d
        h[4] = h[4] &+ e
        h[5] = h[5] &+ f
        h[6] = h[6] &+ g
        h[7] = h[7] &+ hh
    }

    @inline(__always) private static func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { x >> n | x << (32 - n) }
}
