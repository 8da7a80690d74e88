"""Stripe's tax ID types: their countries, examples and formats, and check digits.

Every type Stripe accepts on `POST /v1/customers/{id}/tax_ids` is in :data:`TAX_ID_TYPES`
with the example of Stripe's "Supported tax ID types" table and the format that example
shows. A value must match its type's format (Stripe's ``tax_id_invalid`` on ``value``
otherwise). Where python-stdnum knows how the number's check digit is computed, a
number whose check digit is wrong is refused too: stricter than Stripe, but such a
number cannot be real. Note that many of Stripe's own examples (``DE123456789``,
``12345678912``) are placeholders whose check digits are wrong.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from typing import Any

from stdnum.exceptions import InvalidChecksum

from portal_app.errors import InvalidRequest


@dataclass(frozen=True)
class TaxIdType:
    """One of Stripe's tax ID types.

    ``pattern`` is matched (whole, case-insensitively) against the value with its
    surrounding spaces removed; ``checker`` names the python-stdnum module whose
    ``validate`` computes the check digit, if any.
    """

    type: str
    country: str | None
    description: str
    example: str
    pattern: str
    checker: str | None = None

    def matches(self, value: str) -> bool:
        """Whether ``value`` has this type's format."""
        return re.fullmatch(self.pattern, value.strip(), flags=re.IGNORECASE) is not None


_SEP = r"[-. ]?"
_D = r"\d"


def _t(type: str, country: str | None, description: str, example: str, pattern: str,
       checker: str | None = None) -> TaxIdType:
    return TaxIdType(type, country, description, example, pattern, checker)


# Countries whose VAT numbers are ``eu_vat`` (``EL`` is Greece, ``XI`` Northern Ireland).
EU_VAT_PREFIXES = {
    "AT": "AT", "BE": "BE", "BG": "BG", "CY": "CY", "CZ": "CZ", "DE": "DE", "DK": "DK",
    "EE": "EE", "EL": "GR", "ES": "ES", "FI": "FI", "FR": "FR", "HR": "HR", "HU": "HU",
    "IE": "IE", "IT": "IT", "LT": "LT", "LU": "LU", "LV": "LV", "MT": "MT", "NL": "NL",
    "PL": "PL", "PT": "PT", "RO": "RO", "SE": "SE", "SI": "SI", "SK": "SK", "XI": "GB",
}

# Stripe's table ("Supported tax ID types", docs.stripe.com/billing/customer/tax-ids):
# country, description, example. Types marked (*) were not in the version of the table
# consulted; their example follows the number's published format.
_TYPES = (
    _t("ad_nrt", "AD", "Andorran NRT number", "A-123456-Z", r"[A-Z]-?\d{6}-?[A-Z]"),
    _t("ae_trn", "AE", "United Arab Emirates TRN", "123456789012345", r"\d{15}"),
    _t("al_tin", "AL", "Albania Tax Identification Number", "J12345678N", r"[A-Z]\d{8}[A-Z]"),
    _t("am_tin", "AM", "Armenia Tax Identification Number", "02538904", r"\d{8}"),
    _t("ao_tin", "AO", "Angola Tax Identification Number", "5123456789", r"\d{10}"),
    _t("ar_cuit", "AR", "Argentinian tax ID number", "12-3456789-01", r"\d{2}-?\d{7,8}-?\d{1,2}",
       "ar.cuit"),
    _t("au_abn", "AU", "Australian Business Number (AU ABN)", "12345678912",
       r"\d{2} ?\d{3} ?\d{3} ?\d{3}", "au.abn"),
    _t("au_acn", "AU", "Australian Company Number (AU ACN) (*)", "123456780",
       r"\d{3} ?\d{3} ?\d{3}", "au.acn"),
    _t("au_arn", "AU", "Australian Taxation Office Reference Number", "123456789123", r"\d{12}"),
    _t("au_wpn", "AU", "Australian Withholding Payer Number (*)", "12345678901", r"\d{9,11}"),
    _t("aw_tin", "AW", "Aruba Tax Identification Number", "12345678", r"\d{8}"),
    _t("az_tin", "AZ", "Azerbaijan Tax Identification Number", "0123456789", r"\d{10}"),
    _t("ba_tin", "BA", "Bosnia and Herzegovina Tax Identification Number", "123456789012",
       r"\d{12}"),
    _t("bb_tin", "BB", "Barbados Tax Identification Number", "1123456789012", r"\d{13}"),
    _t("bd_bin", "BD", "Bangladesh Business Identification Number", "123456789-0123",
       r"\d{9}-?\d{4}"),
    _t("bf_ifu", "BF", "Burkina Faso Tax Identification Number", "12345678A", r"\d{8}[A-Z]"),
    _t("bg_uic", "BG", "Bulgaria Unified Identification Code", "123456789", r"\d{9}(\d{4})?"),
    _t("bh_vat", "BH", "Bahraini VAT Number", "123456789012345", r"\d{15}"),
    _t("bj_ifu", "BJ", "Benin Tax Identification Number", "1234567890123", r"\d{13}"),
    _t("bo_tin", "BO", "Bolivian tax ID", "123456789", r"\d{7,12}"),
    _t("br_cnpj", "BR", "Brazilian CNPJ number", "01.234.456/5432-10",
       r"\d{2}\.?\d{3}\.?\d{3}/?\d{4}-?\d{2}", "br.cnpj"),
    _t("br_cpf", "BR", "Brazilian CPF number", "123.456.789-87", r"\d{3}\.?\d{3}\.?\d{3}-?\d{2}",
       "br.cpf"),
    _t("bs_tin", "BS", "Bahamas Tax Identification Number", "123.456.789",
       r"\d{3}\.?\d{3}\.?\d{3}"),
    _t("bw_vat", "BW", "Botswana VAT number (*)", "C01234567890", r"[A-Z]?\d{9,12}"),
    _t("by_tin", "BY", "Belarus TIN Number", "123456789", r"\d{9}"),
    _t("ca_bn", "CA", "Canadian BN", "123456789", r"\d{9}", "ca.bn"),
    _t("ca_gst_hst", "CA", "Canadian GST/HST number", "123456789RT0002", r"\d{9} ?RT ?\d{4}",
       "ca.bn"),
    _t("ca_pst_bc", "CA", "Canadian PST number (British Columbia)", "PST-1234-5678",
       r"PST-?\d{4}-?\d{4}"),
    _t("ca_pst_mb", "CA", "Canadian PST number (Manitoba)", "123456-7", r"\d{6}-?\d"),
    _t("ca_pst_sk", "CA", "Canadian PST number (Saskatchewan)", "1234567", r"\d{7}"),
    _t("ca_qst", "CA", "Canadian QST number (Québec)", "1234567890TQ1234", r"\d{10} ?TQ ?\d{4}"),
    _t("cd_nif", "CD", "Congo (DR) Tax Identification Number", "A0123456M", r"[A-Z]\d{7}[A-Z]"),
    _t("ch_uid", "CH", "Switzerland UID number", "CHE-123.456.789 HR",
       r"CHE-?\d{3}\.?\d{3}\.?\d{3} ?HR", "ch.uid"),
    _t("ch_vat", "CH", "Switzerland VAT number", "CHE-123.456.789 MWST",
       r"CHE-?\d{3}\.?\d{3}\.?\d{3} ?(MWST|TVA|IVA)", "ch.vat"),
    _t("ci_vat", "CI", "Côte d'Ivoire VAT number (*)", "1234567A", r"\d{7}[A-Z]"),
    _t("cl_tin", "CL", "Chilean TIN", "12.345.678-K", r"\d{1,2}\.?\d{3}\.?\d{3}-?[\dK]", "cl.rut"),
    _t("cm_niu", "CM", "Cameroon Tax Identification Number", "M123456789000L",
       r"[A-Z]\d{12}[A-Z]"),
    _t("cn_tin", "CN", "Chinese tax ID", "123456789012345678", r"[0-9A-Z]{15}([0-9A-Z]{3})?"),
    _t("co_nit", "CO", "Colombian NIT number", "123.456.789-0", r"\d{3}\.?\d{3}\.?\d{3}-?\d",
       "co.nit"),
    _t("cr_tin", "CR", "Costa Rican tax ID", "1-234-567890", r"\d-?\d{3}-?\d{6}"),
    _t("cv_nif", "CV", "Cape Verde Tax Identification Number", "213456789", r"\d{9}"),
    _t("cz_dic", "CZ", "Czech tax ID number (DIČ) (*)", "12345678", r"(CZ)?\d{8,10}"),
    _t("de_stn", "DE", "German Tax Number (Steuernummer)", "1234567890",
       r"\d{2,3}/?\d{3,4}/?\d{4,5}"),
    _t("do_rcn", "DO", "Dominican RCN number", "123-4567890-1", r"\d{3}-?\d{7}-?\d|\d{9}"),
    _t("ec_ruc", "EC", "Ecuadorian RUC number", "1234567890001", r"\d{13}", "ec.ruc"),
    _t("eg_tin", "EG", "Egyptian Tax Identification Number", "123456789", r"\d{9}", "eg.tn"),
    _t("es_cif", "ES", "Spanish NIF number (previously Spanish CIF number)", "A12345678",
       r"[0-9A-Z]\d{7}[0-9A-Z]", "es.nif"),
    _t("et_tin", "ET", "Ethiopia Tax Identification Number", "1234567890", r"\d{10}"),
    _t("eu_oss_vat", None, "European One Stop Shop VAT number for non-Union scheme",
       "EU123456789", r"EU\d{9}"),
    _t("eu_vat", None, "European VAT number", "DE123456789",
       r"(" + "|".join(EU_VAT_PREFIXES) + r")[0-9A-Z+*]{2,12}", "eu.vat"),
    _t("fo_vat", "FO", "Faroe Islands VAT number (*)", "123456", r"\d{6}", "fo.vn"),
    _t("fr_siren", "FR", "French SIREN number (*)", "123456782", r"\d{3} ?\d{3} ?\d{3}",
       "fr.siren"),
    _t("fr_siret", "FR", "French SIRET number (*)", "73282932000074",
       r"\d{3} ?\d{3} ?\d{3} ?\d{5}", "fr.siret"),
    _t("fr_spi", "FR", "French tax number (SPI) (*)", "4234567890123", r"\d{13}", "fr.nif"),
    _t("gb_vat", "GB", "United Kingdom VAT number", "GB123456789",
       r"(GB)?(\d{9}|\d{12}|GD\d{3}|HA\d{3})", "gb.vat"),
    _t("ge_vat", "GE", "Georgian VAT", "123456789", r"\d{9}"),
    _t("gh_tin", "GH", "Ghana Tax Identification Number (*)", "C0000000000", r"[CGPQV]\d{10}",
       "gh.tin"),
    _t("gi_tin", "GI", "Gibraltar Tax Identification Number (*)", "12345", r"[0-9A-Z]{5,12}"),
    _t("gn_nif", "GN", "Guinea Tax Identification Number", "123456789", r"\d{9}", "gn.nifp"),
    _t("hk_br", "HK", "Hong Kong BR number", "12345678", r"\d{8}"),
    _t("hr_oib", "HR", "Croatian Personal Identification Number", "12345678901", r"(HR)?\d{11}",
       "hr.oib"),
    _t("hu_tin", "HU", "Hungary tax number (adószám)", "12345678-1-23", r"\d{8}-?\d-?\d{2}"),
    _t("ic_nif", "ES", "Canary Islands NIF (*)", "A12345674", r"[0-9A-Z]\d{7}[0-9A-Z]", "es.nif"),
    _t("id_npwp", "ID", "Indonesian NPWP number", "012.345.678.9-012.345",
       r"\d{2,3}\.?\d{3}\.?\d{3}\.?\d-?\d{3}\.?\d{3}|\d{15,16}", "id.npwp"),
    _t("il_vat", "IL", "Israel VAT", "000012345", r"\d{9}", "il.hp"),
    _t("in_gst", "IN", "Indian GST number", "12ABCDE3456FGZH", r"\d{2}[0-9A-Z]{10}[0-9A-Z]Z[0-9A-Z]",
       "in_.gstin"),
    _t("is_kt", "IS", "Icelandic identity number (kennitala) (*)", "1234567890", r"\d{6}-?\d{4}",
       "is_.kennitala"),
    _t("is_vat", "IS", "Icelandic VAT", "123456", r"\d{5,6}", "is_.vsk"),
    _t("it_cf", "IT", "Italian fiscal code (codice fiscale) (*)", "RSSMRA85T10A562S",
       r"[A-Z]{6}\d{2}[A-Z]\d{2}[A-Z]\d{3}[A-Z]|\d{11}", "it.codicefiscale"),
    _t("jp_cn", "JP", "Japanese Corporate Number (Hōjin Bangō)", "1234567891234", r"\d{13}",
       "jp.cn"),
    _t("jp_rn", "JP", "Japanese Registered Foreign Businesses' Registration Number", "12345",
       r"\d{5}"),
    _t("jp_trn", "JP", "Japanese Tax Registration Number (Tōroku Bangō)", "T1234567891234",
       r"T\d{13}", "jp.cn"),
    _t("ke_pin", "KE", "Kenya Revenue Authority Personal Identification Number", "P000111111A",
       r"[AP]\d{9}[A-Z]"),
    _t("kg_tin", "KG", "Kyrgyzstan Tax Identification Number", "12345678901234", r"\d{14}"),
    _t("kh_tin", "KH", "Cambodia Tax Identification Number", "1001-123456789",
       r"[A-Z\d]\d{3}-?\d{9}"),
    _t("kr_brn", "KR", "Korean BRN", "123-45-67890", r"\d{3}-?\d{2}-?\d{5}", "kr.brn"),
    _t("kz_bin", "KZ", "Kazakhstani Business Identification Number", "123456789012", r"\d{12}"),
    _t("la_tin", "LA", "Laos Tax Identification Number", "123456789-000", r"\d{9}-?\d{3}"),
    _t("li_uid", "LI", "Liechtensteinian UID number", "CHE123456789", r"CHE-?\d{3}\.?\d{3}\.?\d{3}",
       "ch.uid"),
    _t("li_vat", "LI", "Liechtensteinian VAT number", "12345", r"\d{5}"),
    _t("lk_vat", "LK", "Sri Lanka VAT number", "123456789-1234", r"\d{9}-?\d{4}"),
    _t("ma_vat", "MA", "Morocco VAT Number", "12345678", r"\d{8}"),
    _t("md_cf", "MD", "Moldova fiscal code (*)", "1234567890123", r"\d{13}"),
    _t("md_vat", "MD", "Moldova VAT Number", "1234567", r"\d{7}"),
    _t("me_pib", "ME", "Montenegro PIB Number", "12345678", r"\d{8}", "me.pib"),
    _t("mk_vat", "MK", "North Macedonia VAT Number", "MK1234567890123", r"MK\d{13}", "mk.edb"),
    _t("mr_nif", "MR", "Mauritania Tax Identification Number", "12345678", r"\d{8}"),
    _t("mu_vat", "MU", "Mauritius VAT number (*)", "12345678", r"(VAT)?\d{8}"),
    _t("mx_rfc", "MX", "Mexican RFC number", "ABC010203AB9", r"[A-ZÑ&]{3,4}\d{6}[0-9A-Z]{3}",
       "mx.rfc"),
    _t("my_frp", "MY", "Malaysian FRP number", "12345678", r"\d{8}"),
    _t("my_itn", "MY", "Malaysian ITN", "C 1234567890", r"[A-Z]{1,2} ?\d{10,11}"),
    _t("my_sst", "MY", "Malaysian SST number", "A12-3456-78912345", r"[A-Z]\d{2}-?\d{4}-?\d{8}"),
    _t("mz_nuit", "MZ", "Mozambique taxpayer number (NUIT) (*)", "123456785", r"\d{9}",
       "mz.nuit"),
    _t("ng_tin", "NG", "Nigerian Tax Identification Number", "12345678-0001", r"\d{8}-?\d{4}"),
    _t("no_vat", "NO", "Norwegian VAT number", "123456789MVA", r"(NO)?\d{9} ?MVA", "no.mva"),
    _t("no_voec", "NO", "Norwegian VAT on e-commerce number", "1234567", r"\d{7}"),
    _t("np_pan", "NP", "Nepal PAN Number", "123456789", r"\d{9}"),
    _t("nz_bn", "NZ", "New Zealand Business Number (*)", "9429041234567", r"\d{13}"),
    _t("nz_gst", "NZ", "New Zealand GST number", "123456789", r"\d{2,3}-?\d{3}-?\d{3}", "nz.ird"),
    _t("om_vat", "OM", "Omani VAT Number", "OM1234567890", r"OM\d{10}"),
    _t("pe_ruc", "PE", "Peruvian RUC number", "12345678901", r"\d{11}", "pe.ruc"),
    _t("ph_tin", "PH", "Philippines Tax Identification Number", "123456789012",
       r"\d{3}-?\d{3}-?\d{3}-?\d{3}(\d{2})?"),
    _t("pl_nip", "PL", "Polish NIP number", "1234567890", r"\d{3}-?\d{3}-?\d{2}-?\d{2}",
       "pl.nip"),
    _t("pt_nif", "PT", "Portuguese tax number (NIF) (*)", "123456789", r"\d{9}", "pt.nif"),
    _t("py_ruc", "PY", "Paraguayan RUC number (*)", "12345678-9", r"\d{5,8}-?\d", "py.ruc"),
    _t("ro_tin", "RO", "Romanian tax ID number", "1234567890123", r"\d{13}", "ro.cnp"),
    _t("rs_pib", "RS", "Serbian PIB number", "123456789", r"\d{9}", "rs.pib"),
    _t("ru_inn", "RU", "Russian INN", "1234567891", r"\d{10}|\d{12}", "ru.inn"),
    _t("ru_kpp", "RU", "Russian KPP", "123456789", r"\d{4}[0-9A-Z]{2}\d{3}"),
    _t("sa_vat", "SA", "Saudi Arabia VAT", "123456789012345", r"\d{15}"),
    _t("sg_gst", "SG", "Singaporean GST", "M12345678X", r"[A-Z]\d{8}[A-Z]|\d{9}[A-Z]"),
    _t("sg_uen", "SG", "Singaporean UEN", "123456789F", r"\d{8,9}[A-Z]|[ST]\d{2}[A-Z]{2}\d{4}[A-Z]",
       "sg.uen"),
    _t("si_tin", "SI", "Slovenia tax number (davčna številka)", "12345678", r"\d{8}", "si.ddv"),
    _t("sm_coe", "SM", "San Marino tax number (COE) (*)", "12345", r"\d{1,5}", "sm.coe"),
    _t("sn_ninea", "SN", "Senegal NINEA Number", "12345672A2", r"\d{7,9} ?[0-9A-Z]{3}"),
    _t("sr_fin", "SR", "Suriname FIN Number", "1234567890", r"\d{10}"),
    _t("sv_nit", "SV", "El Salvadorian NIT number", "1234-567890-123-4",
       r"\d{4}-?\d{6}-?\d{3}-?\d", "sv.nit"),
    _t("th_vat", "TH", "Thai VAT", "1234567891234", r"\d{13}", "th.tin"),
    _t("tj_tin", "TJ", "Tajikistan Tax Identification Number", "123456789", r"\d{9}"),
    _t("tr_tin", "TR", "Turkish Tax Identification Number", "0123456789", r"\d{10}", "tr.vkn"),
    _t("tt_bir", "TT", "Trinidad and Tobago BIR number (*)", "123456789", r"\d{9}"),
    _t("tt_vat", "TT", "Trinidad and Tobago VAT number (*)", "123456", r"\d{6}"),
    _t("tw_vat", "TW", "Taiwanese VAT", "12345678", r"\d{8}", "tw.ubn"),
    _t("tz_vat", "TZ", "Tanzania VAT Number", "12345678A", r"\d{8}[A-Z]"),
    _t("ua_vat", "UA", "Ukrainian VAT", "123456789", r"\d{9}(\d{3})?"),
    _t("ug_tin", "UG", "Uganda Tax Identification Number", "1014751879", r"\d{10}"),
    _t("us_ein", "US", "United States EIN", "12-3456789", r"\d{2}-?\d{7}", "us.ein"),
    _t("uy_ruc", "UY", "Uruguayan RUC number", "123456789012", r"\d{12}", "uy.rut"),
    _t("uz_tin", "UZ", "Uzbekistan TIN Number", "123456789", r"\d{9}"),
    _t("uz_vat", "UZ", "Uzbekistan VAT Number", "123456789012", r"\d{12}"),
    _t("ve_rif", "VE", "Venezuelan RIF number", "A-12345678-9", r"[A-Z]-?\d{8}-?\d", "ve.rif"),
    _t("vn_tin", "VN", "Vietnamese tax ID number", "1234567890", r"\d{10}(-?\d{3})?", "vn.mst"),
    _t("za_vat", "ZA", "South African VAT number", "4123456789", r"4\d{9}"),
    _t("zm_tin", "ZM", "Zambia Tax Identification Number", "1004751879", r"\d{10}"),
    _t("zw_tin", "ZW", "Zimbabwe Tax Identification Number", "1234567890", r"\d{10}"),
)

TAX_ID_TYPES: dict[str, TaxIdType] = {t.type: t for t in _TYPES}


def tax_id_country(type: str, value: str) -> str | None:
    """The ISO country of a tax ID: its type's, or an EU VAT number's prefix."""
    if type == "eu_vat":
        return EU_VAT_PREFIXES.get(value.strip()[:2].upper())
    spec = TAX_ID_TYPES.get(type)
    return spec.country if spec else None


def check_tax_id(type: str, value: str) -> str:
    """The value to store (surrounding spaces removed) if it is a well-formed ``type`` number.

    Raises InvalidRequest: an unknown ``type`` (param ``type``), a value not in the
    type's format or whose check digit is wrong (``tax_id_invalid`` on ``value``).
    """
    spec = TAX_ID_TYPES.get(type)
    if spec is None:
        raise InvalidRequest(f"Invalid type: must be one of {', '.join(TAX_ID_TYPES)}",
                             param="type")
    value = value.strip()
    if not spec.matches(value):
        raise InvalidRequest(
            f"Invalid value for {type}: {value!r} is not in the format of "
            f"{spec.description} (for example {spec.example}).",
            code="tax_id_invalid", param="value")
    problem = _stdnum_problem(spec, value)
    if problem == "format":
        raise InvalidRequest(
            f"Invalid value for {type}: {value!r} is not in the format of "
            f"{spec.description} (for example {spec.example}).",
            code="tax_id_invalid", param="value")
    if problem == "check_digit":
        raise InvalidRequest(
            f"Invalid value for {type}: the check digit of {value!r} is wrong; "
            f"please check the number.", code="tax_id_invalid", param="value")
    return value


# EU VAT numbers have one format per member state (length, leading digits, office
# codes), which python-stdnum knows: any of its complaints is a format error there.
_FORMAT_BY_STDNUM = frozenset({"eu_vat"})


def _stdnum_problem(spec: TaxIdType, value: str) -> str | None:
    """``"check_digit"``, ``"format"`` or None, as far as python-stdnum knows the number.

    Only a wrong check digit refuses in general: stdnum's other complaints (an unknown
    region code, a registry range) go beyond the format Stripe checks.
    """
    if spec.checker is None:
        return None
    module: Any = importlib.import_module(f"stdnum.{spec.checker}")
    number = value
    if spec.type == "jp_trn":
        number = value[1:]
    elif spec.type == "ch_uid":
        number = re.sub(r"\s*HR$", "", value, flags=re.IGNORECASE)
    try:
        module.validate(number)
    except InvalidChecksum:
        return "check_digit"
    except ValueError:  # stdnum's other ValidationErrors
        return "format" if spec.type in _FORMAT_BY_STDNUM else None
    return None
