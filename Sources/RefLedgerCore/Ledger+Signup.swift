/// How a signup was attributed (SPEC §3), as stored and answered.
public enum Attribution: String, Sendable, CaseIterable {
    case referrerCode = "referrer_code"
    case click
    case none
    case unknownCode = "unknown_code"
    case selfReferral = "self_referral"
}

extension ProgramState {
    /// A participant joins: uniqueness checks, its code, attribution, signup-triggered rewards.
    mutating func signup(
        participant id: String,
        code: String?,
        referrerCode: String?,
        visitor: String?,
        context: inout Derivation,
        sha256: Ledger.Hasher
    ) throws(LedgerError) {
        // The id is checked where the participant is added (one look-up for both), so before
        // that nothing may change the state.
        func exists() -> LedgerError {
            LedgerError(.participantExists, "participant \(id) already signed up in \(name)", field: "participant")
        }
        if let code, codeOwners[code.asciiLowercased] != nil {
            // participant_exists is the first rule a signup breaks (SPEC §2).
            guard participants.position(of: id) == nil else { throw exists() }
            throw LedgerError(.codeTaken, "code \(code) is taken in \(name)", field: "code")
        }
        let time = context.time
        // Attribution looks at the codes that existed before this signup.
        var attribution: Attribution
        var candidate: Member?
        if let referrerCode {
            candidate = codeOwners[referrerCode.asciiLowercased]
            attribution = candidate == nil ? .unknownCode : .referrerCode
        } else if let visitor, let owner = lastClickOwner(visitor: visitor, signupTime: time) {
            candidate = owner
            attribution = .click
        } else {
            attribution = .none
        }
        if let would = candidate, let visitor, participants[at: would].visitor == visitor {
            attribution = .selfReferral
        }

        var member = Participant(code: code ?? "", signupTime: time, visitor: visitor)
        if attribution == .referrerCode || attribution == .click {
            member.referrer = candidate
            member.stats.referred = 1
        }
        guard let referee = participants.addIfAbsent(member, id: id) else { throw exists() }
        totals.referred += member.stats.referred
        if let code {
            // Checked free above, and nothing claims a code in between. (A code the client gave
            // is among the stored fields already.)
            guard codeOwners.addIfAbsent(referee, forKey: code.asciiLowercased) != nil else {
                preconditionFailure("code \(code) was claimed during its own signup")
            }
        } else {
            let assigned = assignCode(to: referee, id: id, sha256: sha256)
            participants[at: referee].code = assigned
            context.stored.add("code", .string(assigned))
            context.stored.add("code_assigned", .bool(true))
        }
        context.stored.add("attribution", .string(attribution.rawValue))
        switch attribution {
        case .referrerCode, .click: context.stored.add("referrer", .string(participants.ids[candidate!]))
        case .selfReferral: context.stored.add("self_referrer", .string(participants.ids[candidate!]))
        case .none, .unknownCode: break
        }

        switch attribution {
        case .selfReferral:
            adjustStats(at: candidate!) { $0.selfReferrals += 1 }
        case .referrerCode, .click:
            let referrer = candidate!
            adjustStats(at: referrer) { $0.referredSignups += 1 }
            if participants[at: referrer].stats.referredSignups == 1 { activeReferrers += 1 }
            if rules.trigger == .signup { deriveSignupRewards(referee: referee, referrer: referrer, context: &context) }
        case .none, .unknownCode:
            break
        }
    }

    /// The owner of the code of the visitor's latest click within the window before `signupTime`.
    private func lastClickOwner(visitor: String, signupTime: Timestamp) -> Member? {
        guard let clicks = clicksByVisitor[visitor] else { return nil }
        let earliest = signupTime.adding(milliseconds: -rules.attributionWindowDays * 86_400_000)
        var best: Click?
        for click in clicks where click.time >= earliest && click.time <= signupTime {
            if let current = best, current.time > click.time { continue }
            best = click  // later time, or equal time and higher seq (clicks are in seq order)
        }
        return best?.owner
    }

    private static let crockford = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    /// Gives the participant at `member` (id `participant`) its code: the first 40 bits of
    /// SHA-256(program/participant) in Crockford base32, suffixed 2, 3, … until no participant
    /// of the program holds it.
    mutating func assignCode(to member: Member, id participant: String, sha256: Ledger.Hasher) -> String {
        var input: [UInt8] = []
        input.reserveCapacity(name.utf8.count + 1 + participant.utf8.count)
        input.append(contentsOf: name.utf8)
        input.append(UInt8(ascii: "/"))
        input.append(contentsOf: participant.utf8)
        let digest = sha256(input)
        var bits: UInt64 = 0
        for byte in digest.prefix(5) { bits = bits << 8 | UInt64(byte) }
        // Eight symbols: a small string, built in place.
        let base = String(unsafeUninitializedCapacity: 8) { symbols in
            for position in 0..<8 {
                symbols[position] = Self.crockford[Int((bits >> UInt64(35 - 5 * position)) & 0x1F)]
            }
            return 8
        }
        // Each try is one look-up: taken, or claimed for `member` at once.
        if codeOwners.addIfAbsent(member, forKey: base.asciiLowercased) != nil { return base }
        var suffix = 2
        while codeOwners.addIfAbsent(member, forKey: (base + String(suffix)).asciiLowercased) == nil { suffix += 1 }
        return base + String(suffix)
    }
}
