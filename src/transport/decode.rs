//! Reading answers: only the records a caller reads are decoded.

use hickory_proto::op::{Edns, Header, Message, Query};
use hickory_proto::rr::{Name, Record, RecordData, RecordType};
use hickory_proto::serialize::binary::{BinDecodable, BinDecoder, DecodeError};

use super::wants_dnssec;

/// What a caller reads from an answer: the RRset of the question, the RRsets (owner, type)
/// it names besides and, when `dnssec` is set, every RRSIG, NSEC and NSEC3 record (signatures
/// and denial proofs). With `dnssec` the question is asked with the DO bit: servers send an
/// RRset's signatures only then.
#[derive(Clone, Debug, Default)]
pub struct Keep {
    /// The RRsets read besides the question's own (a referral's glue): most questions read
    /// only their own, and a plan of millions of questions holds no copy of their names.
    pub also: Vec<(Name, RecordType)>,
    /// Ask with DO=1 and keep the DNSSEC records of every section.
    pub dnssec: bool,
}

impl Keep {
    /// One RRset, asked with DO=1 only for the DNSSEC types.
    pub fn rrset(name: &Name, rtype: RecordType) -> Keep {
        Keep {
            also: vec![(name.clone(), rtype)],
            dnssec: wants_dnssec(rtype),
        }
    }

    fn wants_type(&self, asked: Option<&Query>, rtype: RecordType) -> bool {
        asked.is_some_and(|q| q.query_type() == rtype) || self.also.iter().any(|(_, t)| *t == rtype)
    }

    fn wants(&self, asked: Option<&Query>, owner: &Name, rtype: RecordType) -> bool {
        asked.is_some_and(|q| q.query_type() == rtype && q.name() == owner)
            || self.also.iter().any(|(n, t)| *t == rtype && n == owner)
    }
}

/// Decodes a response keeping, in each section, only what `keep` names and the OPT record;
/// the others are stepped over (their owner is read only where the type is a kept one). A
/// referral from a parent zone carries dozens of glue records of which a probe reads a few,
/// and decoding every record was the largest cost of an audit of the root zone by queries.
/// Header, question and rcode (with EDNS's extended bits) are read as a full decode reads them.
/// A truncated answer is decoded whole: an empty one is a rate limiter's slip.
pub fn decode_for(bytes: &[u8], keep: &Keep) -> Result<Message, DecodeError> {
    let mut decoder = BinDecoder::new(bytes);
    let Header { metadata, counts } = Header::read(&mut decoder)?;
    if metadata.truncation {
        return Message::from_vec(bytes);
    }
    let mut message = Message::new(metadata.id, metadata.message_type, metadata.op_code);
    message.metadata = metadata;
    for _ in 0..counts.queries {
        message.queries.push(Query::read(&mut decoder)?);
    }
    let asked = message.queries.first().cloned();
    let asked = asked.as_ref();
    let sections = [counts.answers, counts.authorities, counts.additionals];
    for (section, count) in sections.into_iter().enumerate() {
        for _ in 0..count {
            let start = decoder.index();
            let start = u16::try_from(start).map_err(|_| DecodeError::InsufficientBytes)?;
            // The type comes after the owner: the owner is stepped over first, and read (with
            // its compression pointers) only where the type is the one kept.
            skip_name(&mut decoder)?;
            let rtype = RecordType::from(decoder.read_u16()?.unverified());
            let is_opt = rtype == RecordType::OPT;
            let dnssec = matches!(
                rtype,
                RecordType::RRSIG | RecordType::NSEC | RecordType::NSEC3
            );
            let kept = is_opt
                || (keep.dnssec && dnssec)
                || (keep.wants_type(asked, rtype)
                    && keep.wants(asked, &Name::read(&mut decoder.clone(start))?, rtype));
            if !kept {
                decoder.read_slice(6)?; // class, TTL
                let len = decoder.read_u16()?.unverified();
                decoder.read_slice(usize::from(len))?;
                continue;
            }
            decoder = decoder.clone(start);
            let record = Record::read(&mut decoder)?;
            if !is_opt && record.data.is_update() {
                return Err(DecodeError::InvalidEmptyRecord);
            }
            match section {
                _ if is_opt && section < 2 => {
                    return Err(DecodeError::RecordNotInAdditionalSection(rtype))
                }
                _ if is_opt && message.edns.is_some() => return Err(DecodeError::DuplicateEdns),
                0 => message.answers.push(record),
                1 => message.authorities.push(record),
                _ if is_opt => {
                    let edns = Edns::from(&record);
                    message.metadata.merge_response_code(edns.rcode_high());
                    message.edns = Some(edns);
                }
                _ => message.additionals.push(record),
            }
        }
    }
    Ok(message)
}

/// Steps over a name in wire form: its labels up to the root label or a compression pointer,
/// which ends it. Where the pointer leads is read only when the name itself is.
fn skip_name(decoder: &mut BinDecoder<'_>) -> Result<(), DecodeError> {
    loop {
        let length = decoder.read_u8()?.unverified();
        match length {
            0 => return Ok(()),
            1..=63 => {
                decoder.read_slice(usize::from(length))?;
            }
            0xC0..=0xFF => {
                decoder.read_u8()?;
                return Ok(());
            }
            _ => return Err(DecodeError::UnrecognizedLabelCode(length)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::EDNS_BUFFER;
    use hickory_proto::op::OpCode;
    use hickory_proto::op::{MessageType, ResponseCode};
    use hickory_proto::rr::rdata::{A, NS};
    use hickory_proto::rr::RData;
    use std::str::FromStr;

    fn name(s: &str) -> Name {
        Name::from_str(s).unwrap()
    }

    /// A referral for `com.` as a root server gives it: NS in authority, glue in additional.
    fn referral() -> Message {
        let mut message = Message::new(7, MessageType::Response, OpCode::Query);
        message
            .queries
            .push(Query::query(name("com."), RecordType::NS));
        for ns in ["a.gtld.net.", "b.gtld.net."] {
            let data = RData::NS(NS(name(ns)));
            message
                .authorities
                .push(Record::from_rdata(name("com."), 172800, data));
            let glue = RData::A(A::new(192, 0, 2, ns.len() as u8));
            message
                .additionals
                .push(Record::from_rdata(name(ns), 172800, glue));
        }
        let mut edns = Edns::new();
        edns.set_max_payload(EDNS_BUFFER);
        message.edns = Some(edns);
        message
    }

    #[test]
    fn only_the_kept_rrsets_are_decoded_from_a_referral() {
        let bytes = referral().to_vec().unwrap();
        // The question's own RRset (com. NS) is always read; the glue of b only besides.
        let glue = decode_for(&bytes, &Keep::rrset(&name("B.gtld.net."), RecordType::A)).unwrap();
        assert_eq!(glue.authorities, referral().authorities);
        assert_eq!(glue.additionals.len(), 1);
        assert_eq!(glue.additionals[0].name, name("b.gtld.net."));
        assert!(glue.edns.is_some());
        assert_eq!(glue.queries, referral().queries);

        let ns = decode_for(&bytes, &Keep::default()).unwrap();
        assert_eq!(ns.authorities, referral().authorities);
        assert!(ns.additionals.is_empty());

        let mut other = referral();
        other.queries[0] = Query::query(name("net."), RecordType::NS);
        let bytes = other.to_vec().unwrap();
        let nothing = decode_for(&bytes, &Keep::default()).unwrap();
        assert!(nothing.authorities.is_empty() && nothing.additionals.is_empty());
    }

    #[test]
    fn extended_rcodes_and_misplaced_opt_are_read_as_a_full_decode_reads_them() {
        let mut badvers = referral();
        badvers.metadata.response_code = ResponseCode::BADVERS;
        let bytes = badvers.to_vec().unwrap();
        let decoded = decode_for(&bytes, &Keep::rrset(&name("com."), RecordType::NS)).unwrap();
        let full = Message::from_vec(&bytes).unwrap();
        assert_eq!(decoded.metadata.response_code, full.metadata.response_code);
        assert_eq!(u16::from(decoded.metadata.response_code), 16);

        let mut misplaced = referral();
        let opt = Record::from_rdata(Name::root(), 0, RData::Update0(RecordType::OPT));
        misplaced.answers.push(opt);
        let bytes = misplaced.to_vec().unwrap();
        assert!(Message::from_vec(&bytes).is_err());
        assert!(decode_for(&bytes, &Keep::rrset(&name("x."), RecordType::A)).is_err());

        let mut cut_short = referral().to_vec().unwrap();
        cut_short.truncate(cut_short.len() - 3);
        assert!(decode_for(&cut_short, &Keep::rrset(&name("x."), RecordType::A)).is_err());
    }

    #[test]
    fn a_truncated_answer_is_decoded_whole() {
        let mut truncated = referral();
        truncated.metadata.truncation = true;
        let bytes = truncated.to_vec().unwrap();
        let decoded = decode_for(&bytes, &Keep::rrset(&name("x."), RecordType::A)).unwrap();
        assert_eq!(decoded.authorities.len(), 2);
        assert_eq!(decoded.additionals.len(), 2);
    }
}
