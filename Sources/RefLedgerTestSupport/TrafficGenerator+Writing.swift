import RefLedgerCore

/// The pieces every fact is written from: envelope, times, participants, codes.
extension TrafficGenerator {
    static let hourMillis: Int64 = 3_600_000
    static let dayMillis: Int64 = 86_400_000
    /// Offsets (minutes) times are sometimes written at.
    static let offsets: [Int64] = [60, -300, 330, 540, -210, 845]
    static let channels: [StaticString] = ["email", "sms", "link", "social", "other"]

    /// A fresh number for ids, participants, visitors, orders and payouts.
    mutating func newNumber() -> Int64 {
        nextNumber += 1
        return nextNumber
    }

    /// `{"id":"e<line>","type":…,"program":…,"time":…` — returns where the time's text is.
    @discardableResult
    mutating func envelope(_ type: StaticString, program: Int, id: Int64? = nil) -> Range<Int> {
        out.begin()
        out.id("id", "e", id ?? Int64(linesWritten))
        out.string("type", type)
        out.string("program", programs[program].name)
        return writeTime()
    }

    /// `"time":…` at `factTime`, now and then at an offset or in lower case.
    mutating func writeTime() -> Range<Int> {
        let roll = random.below(100)
        var style = FactWriter.TimeStyle.utc
        if roll < 8 {
            style = .offset(random.pick(Self.offsets))
            note(.timeWithOffset)
        } else if roll < 9 {
            style = .lowercase
            note(.timeLowercase)
        }
        if factTime < clock { note(.backdated) }
        return out.time("time", factTime, style: style)
    }

    mutating func writeParticipant(_ program: Int, _ member: Int) {
        out.id("participant", "u", Int64(programs[program].members[member].number))
    }

    /// A member's code as `name`, sometimes in other letters' case (codes compare
    /// case-insensitively).
    mutating func writeCode(_ name: StaticString, program: Int, member index: Int, otherCase: Bool) {
        let member = programs[program].members[index]
        if otherCase { note(.codeInOtherCase) }
        out.key(name)
        out.raw("\"")
        switch member.codeStyle {
        case 0: out.packed(assignedCode(program, index), lowercased: otherCase)
        case 1:
            out.raw(otherCase ? "REF-" : "ref-")
            out.decimal(Int64(member.number))
        case 2:
            out.raw(otherCase ? "friend_" : "Friend_")
            out.decimal(Int64(member.number))
        default:
            out.raw(otherCase ? "vip-" : "VIP-")
            out.decimal(Int64(member.number))
            out.raw(otherCase ? "-X" : "-x")
        }
        out.raw("\"")
    }

    /// Adds a participant to a program: usually a new number, now and then one that
    /// already takes part in another program.
    mutating func newMember(program: Int, visitor: Int32, referrer: Int32) -> Int {
        var number = Int32(truncatingIfNeeded: newNumber())
        if random.chance(0.03) {
            let other = random.below(programs.count)
            if other != program, !programs[other].members.isEmpty {
                let candidate = programs[other].members[random.below(programs[other].members.count)].number
                // Only a number native to the other program: one borrowed there may be this program's own.
                if !programs[other].borrowedNumbers.contains(candidate),
                    !programs[program].borrowedNumbers.contains(candidate)
                {
                    programs[program].borrowedNumbers.insert(candidate)
                    number = candidate
                    note(.participantInTwoPrograms)
                }
            }
        }
        let style = random.chance(0.4) ? UInt8(1 + random.below(3)) : 0
        if style == 0 {
            note(.assignedCode)
        } else {
            note(.customCode)
            programs[program].customCodeMembers.append(Int32(programs[program].members.count))
        }
        programs[program].members.append(
            Member(number: number, visitor: visitor, referrer: referrer, codeStyle: style, assignedCode: 0)
        )
        return programs[program].members.count - 1
    }

    /// A member's assigned code, computed the first time it is needed (most are never
    /// referenced, and SHA-256 is the generator's dearest step).
    mutating func assignedCode(_ program: Int, _ member: Int) -> UInt64 {
        if programs[program].members[member].assignedCode == 0 {
            var message = FactWriter(capacity: 48)
            message.raw(programs[program].name)
            message.raw("/u")
            message.decimal(Int64(programs[program].members[member].number))
            programs[program].members[member].assignedCode = Self.assignedCodeBits(message.bytes)
        }
        return programs[program].members[member].assignedCode
    }

    /// Keeps an accepted fact (now and then) for later re-posts; `lineStart` is where it
    /// begins in the line written so far.
    mutating func remember(lineStart: Int, time: Range<Int>, program: Int, signup member: Int? = nil) {
        guard random.below(16) == 0 else { return }
        var assignedCode: UInt64 = 0
        if let member, programs[program].members[member].codeStyle == 0 {
            assignedCode = self.assignedCode(program, member)
        }
        let fact = RecentFact(
            bytes: out.bytes(from: lineStart),
            timeRange: (time.lowerBound - lineStart)..<(time.upperBound - lineStart),
            millis: factTime,
            id: Int64(linesWritten),
            program: UInt8(program),
            assignedCode: assignedCode
        )
        if recent.count < 512 {
            recent.append(fact)
        } else {
            recent[random.below(recent.count)] = fact
        }
    }

    /// A delay of 0 … `maximum`, most of them short (the square of a uniform fraction).
    mutating func skewedDelay(_ maximum: Int64) -> Int64 {
        guard maximum > 0 else { return 0 }
        let fraction = Double(random.below(1 << 20)) / Double(1 << 20)
        return Int64(fraction * fraction * Double(maximum))
    }

    /// A purchase amount in minor units: mostly 5–150 (major units), a few large ones.
    mutating func orderAmount() -> Int64 {
        var amount = random.between(500, 15_000)
        if random.chance(0.05) { amount *= random.between(3, 20) }
        return amount
    }

    /// The program a new participant joins: the first programs are the busiest.
    mutating func pickLiveProgram() -> Int? {
        var total = 0
        for program in programs where program.live { total += Self.weight(program.index) }
        guard total > 0 else { return nil }
        var roll = random.below(total)
        for program in programs where program.live {
            roll -= Self.weight(program.index)
            if roll < 0 { return program.index }
        }
        return nil
    }

    private static func weight(_ index: Int) -> Int { Swift.max(1, 8 >> index) + 1 }

    /// Lines at which programs are created and change their rules.
    mutating func planPrograms() {
        let count = config.factCount
        let late = programs.count >= 3 ? programs.count - 1 : -1
        for index in programs.indices where index != late {
            plan.append(PlannedProgramFact(line: plan.count + 1, program: index, isChange: false))
        }
        let lateLine = Swift.max(plan.count + 1, count / 4)
        if late >= 0 { plan.append(PlannedProgramFact(line: lateLine, program: late, isChange: false, isLate: true)) }
        for index in programs.indices where ProgramTemplate.change(index) != nil {
            let line = Swift.max(count * (index + 3) / (index + 6), index == late ? lateLine + 1 : plan.count + 1)
            plan.append(PlannedProgramFact(line: line, program: index, isChange: true))
        }
        plan.sort { ($0.line, $0.program) < ($1.line, $1.program) }
        for index in plan.indices.dropFirst() where plan[index].line <= plan[index - 1].line {
            plan[index].line = plan[index - 1].line + 1
        }
    }

    /// A planned `program` fact; its rules become the generator's model of the program.
    mutating func emitProgramFact(_ planned: PlannedProgramFact) -> LineKind {
        let index = planned.program
        let rules = planned.isChange ? ProgramTemplate.change(index)! : programs[index].template.rules
        let start = out.count
        let time = envelope("program", program: index)
        out.key("rules")
        out.raw(rules)
        out.end()
        programs[index].rules = ProgramTemplate.decodeRules(rules)
        if planned.isChange {
            note(.ruleChange)
        } else if planned.isLate {
            note(.lateProgram)
        }
        programs[index].live = true
        remember(lineStart: start, time: time, program: index)
        return .fact(.program)
    }
}
