namespace AiGateway.Markings.Normalization;

/// <summary>
/// Folds one character (or code point) to the ASCII character it stands for in a marking: upper-case letters,
/// compatibility forms (fullwidth, mathematical, enclosed, small capitals), homoglyphs (Cyrillic, Greek, Cherokee),
/// Latin letters with diacritics, space and slash look-alikes; invisible characters are removed.
/// </summary>
internal static class CharFolding
{
    // Table entry: 0 = keep the character unchanged; otherwise low 8 bits = ASCII result and the flags below.
    private const ushort LowerBit = 0x100;
    private const ushort RemoveBit = 0x200;
    private const ushort RelevantBit = 0x400;

    /// <summary>Fold result meaning "drop this character".</summary>
    public const int Removed = -1;

    private static readonly ushort[] s_table = Build();

    /// <summary>
    /// True when a non-ASCII character may change what the matcher sees (it folds to ASCII or is invisible),
    /// so the text around it must take the normalising path. Common typography (curly quotes, en/em dashes,
    /// bullets) is not relevant: it cannot create a marking anchor by itself.
    /// </summary>
    public static bool IsRelevant(char c) => (s_table[c] & RelevantBit) != 0
        || char.IsHighSurrogate(c) && (c == '\uD835' || c == '\uD83C' || c == '\uDB40');

    /// <summary>Folds a BMP character; returns the folded char, <see cref="Removed"/>, and whether it came from a lower-case letter.</summary>
    public static int Fold(char c, out bool lower)
    {
        var e = s_table[c];
        if (e == 0)
        {
            lower = false;
            return c;
        }

        lower = (e & LowerBit) != 0;
        return (e & RemoveBit) != 0 ? Removed : e & 0xFF;
    }

    /// <summary>Folds any code point (from a surrogate pair or an HTML numeric entity).</summary>
    public static int FoldCodePoint(int cp, out bool lower)
    {
        if (cp < 0x10000)
        {
            if (cp is >= 0xD800 and <= 0xDFFF)
            {
                lower = false;
                return Removed;
            }

            return Fold((char)cp, out lower);
        }

        lower = false;
        switch (cp)
        {
            case >= 0x1D400 and <= 0x1D6A3:
                {
                    // Mathematical alphanumeric letters: 13 styles of A–Z a–z in blocks of 52.
                    var k = (cp - 0x1D400) % 52;
                    if (k < 26)
                    {
                        return 'A' + k;
                    }

                    lower = true;
                    return 'A' + k - 26;
                }

            case >= 0x1D7CE and <= 0x1D7FF:
                return '0' + (cp - 0x1D7CE) % 10;
            case >= 0x1F130 and <= 0x1F149:
                return 'A' + cp - 0x1F130;
            case >= 0x1F150 and <= 0x1F169:
                return 'A' + cp - 0x1F150;
            case >= 0x1F170 and <= 0x1F189:
                return 'A' + cp - 0x1F170;
            case >= 0x1F1E6 and <= 0x1F1FF:
                return 'A' + cp - 0x1F1E6;
            case >= 0xE0000 and <= 0xE007F:
            case >= 0xE0100 and <= 0xE01EF:
                return Removed;
            default:
                return '\uFFFD';
        }
    }

    private static ushort[] Build()
    {
        var t = new ushort[0x10000];

        // ASCII: letters are upper-cased and flagged; everything else maps to itself.
        for (var c = 1; c < 0x80; c++)
        {
            t[c] = c is >= 'a' and <= 'z' ? (ushort)((c - 32) | LowerBit) : (ushort)c;
        }

        void Map(int from, char to, bool relevant = true)
        {
            var asciiEntry = t[to];
            t[from] = (ushort)(asciiEntry | (relevant ? RelevantBit : 0));
        }

        void MapUpper(int from, char to) => t[from] = (ushort)(char.ToUpperInvariant(to) | RelevantBit);

        void Remove(int from, int to)
        {
            for (var c = from; c <= to; c++)
            {
                t[c] = RemoveBit | RelevantBit;
            }
        }

        // Fullwidth ASCII.
        for (var c = 0xFF01; c <= 0xFF5E; c++)
        {
            Map(c, (char)(c - 0xFEE0));
        }

        // Invisible and format characters, combining marks, variation selectors.
        Remove(0x00AD, 0x00AD);
        Remove(0x0300, 0x036F);
        Remove(0x034F, 0x034F);
        Remove(0x061C, 0x061C);
        Remove(0x115F, 0x1160);
        Remove(0x17B4, 0x17B5);
        Remove(0x180B, 0x180F);
        Remove(0x1AB0, 0x1AFF);
        Remove(0x1DC0, 0x1DFF);
        Remove(0x200B, 0x200F);
        Remove(0x202A, 0x202E);
        Remove(0x2060, 0x206F);
        Remove(0x20D0, 0x20FF);
        Remove(0x3164, 0x3164);
        Remove(0xFE00, 0xFE0F);
        Remove(0xFE20, 0xFE2F);
        Remove(0xFEFF, 0xFEFF);
        Remove(0xFFA0, 0xFFA0);
        Remove(0xFFF9, 0xFFFB);

        // Spaces and line breaks.
        foreach (var c in new[] { 0x00A0, 0x1680, 0x202F, 0x205F, 0x3000 })
        {
            Map(c, ' ');
        }

        for (var c = 0x2000; c <= 0x200A; c++)
        {
            Map(c, ' ');
        }

        Map(0x0085, '\n');
        Map(0x2028, '\n');
        Map(0x2029, '\n');

        // Punctuation look-alikes that build marking structure.
        foreach (var c in new[] { 0x2044, 0x2215, 0x29F8, 0x2571, 0x1735, 0x2F03, 0x3033, 0x30CE, 0x4E3F })
        {
            Map(c, '/');
        }

        foreach (var c in new[] { 0x207D, 0x208D, 0xFE59, 0x2768, 0x276A, 0x27EE, 0xFF5F })
        {
            Map(c, '(');
        }

        foreach (var c in new[] { 0x207E, 0x208E, 0xFE5A, 0x2769, 0x276B, 0x27EF, 0xFF60 })
        {
            Map(c, ')');
        }

        foreach (var c in new[] { 0x02D0, 0x02F8, 0x05C3, 0x0703, 0x2236, 0xA789, 0xFE13, 0xFE55 })
        {
            Map(c, ':');
        }

        foreach (var c in new[] { 0x2010, 0x2011, 0x2012, 0x2212, 0xFE58, 0xFE63, 0x2043 })
        {
            Map(c, '-');
        }

        // En/em dashes and bullets are everyday typography: folded, but not a reason to take the slow path.
        Map(0x2013, '-', relevant: false);
        Map(0x2014, '-', relevant: false);
        Map(0x2015, '-', relevant: false);
        Map(0x00B7, '.');
        Map(0x2024, '.');
        Map(0x2022, '*', relevant: false);

        // Latin-1 Supplement and Latin Extended-A letters with diacritics → base letter.
        const string latin1 = "AAAAAAACEEEEIIIIDNOOOOO\0OUUUUY\0\0aaaaaaaceeeeiiiidnooooo\0ouuuuy\0y";
        for (var i = 0; i < latin1.Length; i++)
        {
            if (latin1[i] != '\0')
            {
                Map(0xC0 + i, latin1[i]);
            }
        }

        const string latinExtA = "AaAaAaCcCcCcCcDdDdEeEeEeEeEeGgGgGgGgHhHhIiIiIiIiIiIiJjKkkLlLlLlLlLlNnNnNnnNnOoOoOoOoRrRrRrSsSsSsSsTtTtTtUuUuUuUuUuUuWwYyYZzZzZzs";
        for (var i = 0; i < latinExtA.Length; i++)
        {
            Map(0x100 + i, latinExtA[i]);
        }

        // Homoglyphs: Cyrillic.
        const string cyrUpperFrom = "\u0410\u0412\u0415\u041A\u041C\u041D\u041E\u0420\u0421\u0422\u0425\u0423\u0405\u0406\u0408\u051A\u051C\u04C0\u0417";
        const string cyrUpperTo = "ABEKMHOPCTXYSIJQWI3";
        for (var i = 0; i < cyrUpperFrom.Length; i++)
        {
            Map(cyrUpperFrom[i], cyrUpperTo[i]);
        }

        const string cyrLowerFrom = "\u0430\u0435\u043E\u0440\u0441\u0443\u0445\u0455\u0456\u0458\u051B\u051D\u04BB\u043A\u0432\u043D\u0442\u043C\u0501\u0261";
        const string cyrLowerTo = "aeopcyxsijqwhkbhtmdg";
        for (var i = 0; i < cyrLowerFrom.Length; i++)
        {
            Map(cyrLowerFrom[i], cyrLowerTo[i]);
        }

        // Homoglyphs: Greek.
        const string grUpperFrom = "\u0391\u0392\u0395\u0396\u0397\u0399\u039A\u039C\u039D\u039F\u03A1\u03A4\u03A5\u03A7\u03F9\u037F";
        const string grUpperTo = "ABEZHIKMNOPTYXCJ";
        for (var i = 0; i < grUpperFrom.Length; i++)
        {
            Map(grUpperFrom[i], grUpperTo[i]);
        }

        const string grLowerFrom = "\u03BF\u03BD\u03B9\u03BA\u03B1\u03C1\u03C4\u03C5\u03C7\u03F2\u03F3\u03B5";
        const string grLowerTo = "ovikaptuxcje";
        for (var i = 0; i < grLowerFrom.Length; i++)
        {
            Map(grLowerFrom[i], grLowerTo[i]);
        }

        // Homoglyphs: Cherokee capitals.
        const string cherFrom = "\u13DA\u13AC\u13DF\u13A1\u13A2\u13B3\u13BB\u13B7\u13AB\u13E6\u13DE\u13E2\u13D9\u13A0\u13C0\u13C3\u13AA\u13F4";
        const string cherTo = "SECRTWHMJKLPVDGZAB";
        for (var i = 0; i < cherFrom.Length; i++)
        {
            Map(cherFrom[i], cherTo[i]);
        }

        // Small capitals read as capitals.
        const string smallCapFrom = "\u1D00\u0299\u1D04\u1D05\u1D07\uA730\u0262\u029C\u026A\u1D0A\u1D0B\u029F\u1D0D\u0274\u1D0F\u1D18\u0280\uA731\u1D1B\u1D1C\u1D20\u1D21\u028F\u1D22";
        const string smallCapTo = "ABCDEFGHIJKLMNOPRSTUVWYZ";
        for (var i = 0; i < smallCapFrom.Length; i++)
        {
            MapUpper(smallCapFrom[i], smallCapTo[i]);
        }

        // Letterlike symbols and circled letters.
        const string letterlikeFrom = "\u2102\u210D\u2115\u2119\u211A\u211D\u2124\u212A\u212B\u212C\u2130\u2131\u2133\u2160\u216D\u216E\u216F";
        const string letterlikeTo = "CHNPQRZKABEFMICDM";
        for (var i = 0; i < letterlikeFrom.Length; i++)
        {
            Map(letterlikeFrom[i], letterlikeTo[i]);
        }

        for (var i = 0; i < 26; i++)
        {
            MapUpper(0x24B6 + i, (char)('A' + i));
            Map(0x24D0 + i, (char)('a' + i));
        }

        return t;
    }
}
