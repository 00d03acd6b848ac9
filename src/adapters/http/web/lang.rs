//! The pages' two languages: Brazilian Portuguese first, English second, chosen by `?lang=`,
//! then `Accept-Language`, then Portuguese.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    PtBr,
    En,
}

impl Lang {
    /// `?lang=` wins; then the first language of `Accept-Language` (by its q-values) that the
    /// pages speak; then Portuguese.
    pub fn choose(query: Option<&str>, accept_language: Option<&str>) -> Self {
        if let Some(lang) = query.and_then(Self::from_tag) {
            return lang;
        }
        let mut ranges: Vec<(f32, Lang)> = accept_language
            .unwrap_or_default()
            .split(',')
            .take(20)
            .filter_map(|range| {
                let mut parts = range.split(';');
                let lang = Self::from_tag(parts.next()?.trim())?;
                let q = parts
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .unwrap_or(1.0);
                (q > 0.0).then_some((q, lang))
            })
            .collect();
        // Stable: among equal q-values the first listed wins.
        ranges.sort_by(|a, b| b.0.total_cmp(&a.0));
        ranges.first().map_or(Lang::PtBr, |(_, lang)| *lang)
    }

    fn from_tag(tag: &str) -> Option<Self> {
        let primary = tag.split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "pt" => Some(Lang::PtBr),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The `lang` attribute and `?lang=` value.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::PtBr => "pt-BR",
            Lang::En => "en",
        }
    }

    /// The other language, for the switch on every page.
    pub fn other(self) -> Self {
        match self {
            Lang::PtBr => Lang::En,
            Lang::En => Lang::PtBr,
        }
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::PtBr => &PT_BR,
            Lang::En => &EN,
        }
    }
}

/// Every sentence the pages show (the verification script carries its own, chosen by the
/// page's `lang`).
pub struct Texts {
    pub language_name: &'static str,
    pub members: &'static str,
    pub published_items: &'static str,
    pub no_published_items: &'static str,
    pub latest_event: &'static str,
    pub no_public_events: &'static str,
    pub identifiers: &'static str,
    pub history: &'static str,
    pub versions: &'static str,
    pub version: &'static str,
    pub withheld: &'static str,
    pub lineage: &'static str,
    pub made_from: &'static str,
    pub went_into: &'static str,
    pub contains: &'static str,
    pub contained_in: &'static str,
    pub related: &'static str,
    pub what: &'static str,
    pub where_: &'static str,
    pub why: &'static str,
    pub verification: &'static str,
    pub verification_pending: &'static str,
    pub needs_javascript: &'static str,
    pub verify_offline: &'static str,
    pub download_proof: &'static str,
    pub qr_code: &'static str,
    pub not_found_title: &'static str,
    pub not_found_text: &'static str,
    pub password_title: &'static str,
    pub password_text: &'static str,
    pub password_label: &'static str,
    pub password_wrong: &'static str,
    pub password_submit: &'static str,
    pub too_many_attempts: &'static str,
    pub busy_title: &'static str,
    pub busy_text: &'static str,
    pub error_title: &'static str,
    pub back_to_circuit: &'static str,
    pub public_since: &'static str,
    pub powered_by: &'static str,
    pub more_events: &'static str,
}

static PT_BR: Texts = Texts {
    language_name: "Português",
    members: "membros",
    published_items: "Itens publicados",
    no_published_items: "Nenhum item publicado ainda.",
    latest_event: "Último evento",
    no_public_events: "Nenhum evento público.",
    identifiers: "Identificadores",
    history: "Histórico",
    versions: "Versões",
    version: "Versão",
    withheld: "conteúdo não público; só o resumo criptográfico é mostrado",
    lineage: "Origem e destino",
    made_from: "Feito a partir de",
    went_into: "Deu origem a",
    contains: "Contém",
    contained_in: "Contido em",
    related: "Relacionado",
    what: "O quê",
    where_: "Onde",
    why: "Por quê",
    verification: "Verificação",
    verification_pending: "Verificando este histórico no registro assinado…",
    needs_javascript: "A verificação no navegador precisa de JavaScript. Você pode verificar sem ele: baixe a prova e rode",
    verify_offline: "A chave do registro mostrada abaixo vem desta página; compare-a com a chave publicada pela DeFarm para uma garantia completa.",
    download_proof: "Baixar a prova (proof.json)",
    qr_code: "Código QR deste item",
    not_found_title: "Página não encontrada",
    not_found_text: "Esta página não existe ou não está pública.",
    password_title: "Página protegida",
    password_text: "Esta página pede a senha de acesso que o circuito compartilhou com você.",
    password_label: "Senha de acesso",
    password_wrong: "Senha incorreta.",
    password_submit: "Entrar",
    too_many_attempts: "Muitas tentativas. Tente de novo em alguns minutos.",
    busy_title: "Serviço ocupado",
    busy_text: "O serviço está ocupado agora. Tente de novo em instantes.",
    error_title: "Algo deu errado",
    back_to_circuit: "Voltar ao circuito",
    public_since: "Pública desde",
    powered_by: "Rastreabilidade por DeFarm",
    more_events: "Há mais eventos do que os mostrados aqui.",
};

static EN: Texts = Texts {
    language_name: "English",
    members: "members",
    published_items: "Published items",
    no_published_items: "No published items yet.",
    latest_event: "Latest event",
    no_public_events: "No public events.",
    identifiers: "Identifiers",
    history: "History",
    versions: "Versions",
    version: "Version",
    withheld: "content not public; only its cryptographic digest is shown",
    lineage: "Where it came from and went",
    made_from: "Made from",
    went_into: "Went into",
    contains: "Contains",
    contained_in: "Contained in",
    related: "Related",
    what: "What",
    where_: "Where",
    why: "Why",
    verification: "Verification",
    verification_pending: "Checking this history against the signed log…",
    needs_javascript: "Checking in the browser needs JavaScript. You can check without it: download the proof and run",
    verify_offline: "The log key shown below comes from this page; compare it with the key DeFarm publishes for a full guarantee.",
    download_proof: "Download the proof (proof.json)",
    qr_code: "QR code of this item",
    not_found_title: "Page not found",
    not_found_text: "This page does not exist or is not public.",
    password_title: "Protected page",
    password_text: "This page asks for the access password the circuit shared with you.",
    password_label: "Access password",
    password_wrong: "Wrong password.",
    password_submit: "Open",
    too_many_attempts: "Too many attempts. Try again in a few minutes.",
    busy_title: "Service busy",
    busy_text: "The service is busy right now. Try again in a moment.",
    error_title: "Something went wrong",
    back_to_circuit: "Back to the circuit",
    public_since: "Public since",
    powered_by: "Traceability by DeFarm",
    more_events: "There are more events than shown here.",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_wins_then_accept_language_by_q_then_portuguese() {
        assert_eq!(Lang::choose(Some("en"), Some("pt-BR")), Lang::En);
        assert_eq!(Lang::choose(Some("pt-BR"), Some("en")), Lang::PtBr);
        assert_eq!(Lang::choose(Some("xx"), Some("en-US,en;q=0.9")), Lang::En);
        assert_eq!(Lang::choose(None, Some("fr-FR, en;q=0.5, pt;q=0.8")), Lang::PtBr);
        assert_eq!(Lang::choose(None, Some("de, en-GB;q=0.3")), Lang::En);
        assert_eq!(Lang::choose(None, Some("en;q=0, pt-PT")), Lang::PtBr);
        assert_eq!(Lang::choose(None, Some("fr")), Lang::PtBr);
        assert_eq!(Lang::choose(None, None), Lang::PtBr);
    }
}
